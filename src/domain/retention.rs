//! Retention: how much of each session a policy keeps. Pure rules; the
//! store finds the sessions and applies the plan (`Store::retention_plan`).

use super::Role;

/// A message as trimming sees it: who said it and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sized {
    pub role: Role,
    pub bytes: u64,
}

/// The messages `[from, to)` to remove from a session so that it holds at
/// most `max_turns` turns and `max_bytes` bytes of text, oldest turns
/// first. A turn is a user message and what answered it; what comes before
/// the first user message (but a first system message) goes with the first
/// turn removed. The first system message always stays, and so does the
/// last turn, whatever its size. `None` when nothing is to go.
pub fn trim(
    messages: &[Sized],
    max_turns: Option<u64>,
    max_bytes: Option<u64>,
) -> Option<(u64, u64)> {
    let keep_system = usize::from(messages.first().is_some_and(|m| m.role == Role::System));
    // Where each turn starts.
    let starts: Vec<usize> = messages
        .iter()
        .enumerate()
        .skip(keep_system)
        .filter(|(_, m)| m.role == Role::User)
        .map(|(i, _)| i)
        .collect();
    if starts.len() <= 1 {
        return None;
    }
    let total: u64 = messages.iter().map(|m| m.bytes).sum();
    let bytes_before = |i: usize| -> u64 { messages[keep_system..i].iter().map(|m| m.bytes).sum() };
    // Drop the first `k` turns (and the preamble): the rest starts at starts[k].
    let fits = |k: usize| {
        let turns = (starts.len() - k) as u64;
        let kept = total - bytes_before(starts[k]);
        max_turns.is_none_or(|t| turns <= t) && max_bytes.is_none_or(|b| kept <= b)
    };
    let last = starts.len() - 1;
    let k = (0..=last).find(|&k| fits(k)).unwrap_or(last);
    let to = starts[k];
    (to > keep_system).then_some((keep_system as u64, to as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(role: Role, bytes: u64) -> Sized {
        Sized { role, bytes }
    }

    #[test]
    fn the_oldest_turns_go_and_the_first_system_message_stays() {
        use Role::{Assistant as A, System as S, Tool as T, User as U};
        let m = [
            s(S, 5),
            s(U, 1),
            s(A, 1),
            s(U, 1),
            s(A, 1),
            s(T, 1),
            s(U, 1),
            s(A, 1),
        ];
        assert_eq!(trim(&m, Some(3), None), None);
        assert_eq!(trim(&m, Some(2), None), Some((1, 3)));
        assert_eq!(trim(&m, Some(1), None), Some((1, 6)));
        // The last turn stays even when asked for none.
        assert_eq!(trim(&m, Some(0), None), Some((1, 6)));
        // By size: 12 bytes in all. At most 10 drops the first turn (2
        // bytes); at most 9, the second too (3 bytes more).
        assert_eq!(trim(&m, None, Some(12)), None);
        assert_eq!(trim(&m, None, Some(10)), Some((1, 3)));
        assert_eq!(trim(&m, None, Some(9)), Some((1, 6)));
        // Both limits: the stricter wins.
        assert_eq!(trim(&m, Some(2), Some(9)), Some((1, 6)));
    }

    #[test]
    fn a_preamble_goes_with_the_first_turn_and_no_system_is_kept_when_there_is_none() {
        use Role::{Assistant as A, User as U};
        let m = [s(A, 1), s(U, 1), s(A, 1), s(U, 1), s(A, 1)];
        assert_eq!(trim(&m, Some(1), None), Some((0, 3)));
        // One turn only: nothing to trim.
        assert_eq!(trim(&[s(U, 9), s(A, 9)], Some(0), Some(1)), None);
        assert_eq!(trim(&[], Some(0), None), None);
    }
}
