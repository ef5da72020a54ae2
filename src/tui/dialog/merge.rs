//! Merging the marked sessions into a new one: its name and the order of
//! the messages. The number of messages it will hold is previewed by the
//! store worker (`Command::PreviewMerge`) when it opens and when the order
//! changes.

use super::{ChoiceField, FieldMut, FieldRef, Fields, FormState, LineField, checked_name};
use crate::domain::{MergeOrder, SessionId};
use crate::tui::command::{Command, Mutation};

/// The orders offered, in order.
pub const ORDERS: [(MergeOrder, &str); 2] = [
    (MergeOrder::Time, "by message time"),
    (MergeOrder::Given, "as listed"),
];

#[derive(Debug)]
pub struct Merge {
    pub ids: Vec<SessionId>,
    /// The names of the sessions merged, as listed.
    pub names: Vec<String>,
    pub name: LineField,
    pub order: ChoiceField,
    /// Messages of the merged session, once counted for `previewed`.
    pub preview: Option<usize>,
    /// The order the last preview was asked for.
    previewed: MergeOrder,
    pub state: FormState,
}

impl Merge {
    /// The dialog, and the preview to ask for.
    pub fn new(ids: Vec<SessionId>, names: Vec<String>) -> (Merge, Command) {
        let first = names.first().cloned().unwrap_or_default();
        let preview = Command::PreviewMerge {
            ids: ids.clone(),
            order: ORDERS[0].0,
        };
        let m = Merge {
            ids,
            names,
            name: LineField::new("new session", &format!("{first}-merged")),
            order: ChoiceField::new("order", ORDERS.iter().map(|(_, n)| *n).collect()),
            preview: None,
            previewed: ORDERS[0].0,
            state: FormState::default(),
        };
        (m, preview)
    }

    pub fn chosen(&self) -> MergeOrder {
        ORDERS
            .get(self.order.index())
            .map_or(MergeOrder::Time, |(o, _)| *o)
    }

    /// After a change: a new order needs a new count.
    pub fn changed(&mut self) -> Option<Command> {
        let order = self.chosen();
        if order == self.previewed {
            return None;
        }
        self.previewed = order;
        self.preview = None;
        Some(Command::PreviewMerge {
            ids: self.ids.clone(),
            order,
        })
    }

    /// The count arrived.
    pub fn previewed(&mut self, count: Result<usize, String>) {
        match count {
            Ok(n) => {
                self.preview = Some(n);
                self.state.error = None;
            }
            Err(e) => self.state.error = Some(e),
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        Ok(Mutation::Merge {
            ids: self.ids.clone(),
            name: checked_name(&self.name)?,
            order: self.chosen(),
        })
    }
}

impl Fields for Merge {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        "merge".into()
    }
    fn info(&self) -> Vec<String> {
        let mut info: Vec<String> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{}. {n}", i + 1))
            .collect();
        info.push(match self.preview {
            Some(n) => format!("the merged session will hold {n} messages"),
            None => "counting messages…".into(),
        });
        info
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.name).into(), (&self.order).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.name).into(), (&mut self.order).into()]
    }
}
