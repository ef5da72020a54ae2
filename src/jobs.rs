//! Long work (import, export, cleanup of many sessions): a progress callback
//! and a cancel flag, so the CLI can draw a bar and the TUI a gauge without
//! either blocking.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Progress of a job: `done` out of `total` units (bytes, sessions...).
pub type ProgressFn<'a> = dyn Fn(u64, u64) + 'a;

/// Handle given to long work: reports progress, answers "should I stop?".
#[derive(Clone, Default)]
pub struct JobControl {
    cancel: Arc<AtomicBool>,
}

impl JobControl {
    /// A fresh control, not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// `Err(Error::Cancelled)` once [`cancel`](Self::cancel) was called.
    pub fn check(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
