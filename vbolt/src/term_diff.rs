//! The buffers that compute a target's term changes: the new and the old
//! (term, priority) pairs as spans of one arena. The write transaction
//! keeps one, so an index update allocates once per transaction, not once
//! per call. A leaf: it knows nothing of transactions or indexes.

/// Reusable buffers for computing a target's term changes, kept in the
/// write transaction so updates allocate once per transaction.
#[derive(Default)]
pub(crate) struct TermDiff {
    /// The packed terms and priorities, new and old, end to end.
    pub(crate) arena: Vec<u8>,
    /// The requested pairs, sorted by term bytes.
    pub(crate) new: Vec<Pair>,
    /// The target's current pairs, sorted by term bytes.
    pub(crate) old: Vec<Pair>,
    /// The packed target.
    pub(crate) target: Vec<u8>,
    /// A key being built.
    pub(crate) key: Vec<u8>,
    /// The end of a prefix range.
    pub(crate) end: Vec<u8>,
}

/// A (term, priority) pair as spans of the scratch arena.
#[derive(Clone, Copy)]
pub(crate) struct Pair {
    pub(crate) term: (usize, usize),
    pub(crate) prio: (usize, usize),
}

impl TermDiff {
    pub(crate) fn bytes(&self, span: (usize, usize)) -> &[u8] {
        &self.arena[span.0..span.1]
    }

    pub(crate) fn push(&mut self, term: &[u8], prio: &[u8]) -> Pair {
        let t0 = self.arena.len();
        self.arena.extend_from_slice(term);
        let p0 = self.arena.len();
        self.arena.extend_from_slice(prio);
        Pair {
            term: (t0, p0),
            prio: (p0, self.arena.len()),
        }
    }
}
