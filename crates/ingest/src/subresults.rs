//! JMeter 5.x CSV sub-results: rows labelled `<parent>-N` written right after their parent
//! (pre-order, N counting from 0, recursively since 5.5). CSV has no parent link, so this is a
//! heuristic: a row is a sub-result when its label is exactly the next expected `<label>-N` of
//! an open parent in the same thread. A real sampler literally named `<previous label>-0` that
//! follows it in the same thread is indistinguishable (docs/import.md).

/// One open potential parent.
struct Open {
    label: String,
    thread: String,
    row: i64,
    next_child: u32,
}

/// Tracks open parents while rows stream by. Slots above `depth` keep their strings so that
/// rows reuse them instead of allocating (this runs once per CSV row).
#[derive(Default)]
pub struct SubResultTracker {
    stack: Vec<Open>,
    depth: usize,
}

/// JMeter nests sub-results at most 11 levels deep; deeper chains restart at the bottom.
const MAX_DEPTH: usize = 16;

impl SubResultTracker {
    /// Returns the parent row if the row is a sub-result; records the row as a potential parent.
    pub fn observe(&mut self, row: i64, label: &str, thread: &str) -> Option<i64> {
        while self.depth > 0 {
            let top = &mut self.stack[self.depth - 1];
            if is_child_label(label, &top.label, top.next_child) && top.thread == thread {
                top.next_child += 1;
                let parent = top.row;
                self.push(row, label, thread);
                return Some(parent);
            }
            self.depth -= 1;
        }
        self.push(row, label, thread);
        None
    }

    /// Takes back the last [`observe`](Self::observe) of `row` (a row that was then rejected):
    /// it is no longer an open parent, and if it was a sub-result its parent expects the same
    /// child number again. Parents its observation closed stay closed.
    pub fn forget(&mut self, row: i64, was_child: bool) {
        if self.depth == 0 || self.stack[self.depth - 1].row != row {
            return;
        }
        self.depth -= 1;
        if was_child && self.depth > 0 {
            let parent = &mut self.stack[self.depth - 1];
            parent.next_child = parent.next_child.saturating_sub(1);
        }
    }

    fn push(&mut self, row: i64, label: &str, thread: &str) {
        if self.depth == MAX_DEPTH {
            self.depth = 0;
        }
        if self.depth == self.stack.len() {
            self.stack.push(Open {
                label: String::new(),
                thread: String::new(),
                row: 0,
                next_child: 0,
            });
        }
        let slot = &mut self.stack[self.depth];
        slot.label.clear();
        slot.label.push_str(label);
        slot.thread.clear();
        slot.thread.push_str(thread);
        slot.row = row;
        slot.next_child = 0;
        self.depth += 1;
    }
}

/// Whether `label` is `<parent>-<n>`. Nearly no row is a sub-result, so the byte after where
/// `parent` would end is looked at before the labels are compared.
fn is_child_label(label: &str, parent: &str, n: u32) -> bool {
    label.as_bytes().get(parent.len()) == Some(&b'-')
        && label
            .strip_prefix(parent)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|num| num.parse::<u32>().ok() == Some(n) && !num.starts_with('+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_pre_order_children_link_to_parents() {
        let mut t = SubResultTracker::default();
        let rows = [
            ("P", None),
            ("P-0", Some(0)),
            ("P-0-0", Some(1)),
            ("P-0-1", Some(1)),
            ("P-1", Some(0)),
            ("Q", None),
            ("Q-1", None), // index must start at 0
            ("P-2", None), // parent closed by Q
        ];
        for (i, (label, parent)) in rows.iter().enumerate() {
            assert_eq!(t.observe(i as i64, label, "T 1-1"), *parent, "{label}");
        }
    }

    #[test]
    fn other_thread_is_not_a_child() {
        let mut t = SubResultTracker::default();
        assert_eq!(t.observe(0, "P", "T 1-1"), None);
        assert_eq!(t.observe(1, "P-0", "T 1-2"), None);
    }
}
