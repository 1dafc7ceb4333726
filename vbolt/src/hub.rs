//! The machinery under commit notifications ([`crate::notify`]): which
//! subscriptions watch which keys, the changes a write transaction records
//! while it runs, and their delivery once the transaction has committed.
//!
//! Nothing here knows buckets or indexes as types: a change is a space
//! (bucket keys or index terms), a declared name and packed key bytes. So
//! the transaction layer records changes through this module without
//! importing the typed layer above it, and `notify` (the public side)
//! builds on both.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;

/// What a watched key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Space {
    /// A bucket's key.
    BucketKey,
    /// An index's term.
    IndexTerm,
}

/// A table as the hub knows it: the space and the declared name.
type TableRef = (Space, &'static str);

/// The changes one write transaction made, as far as subscribers can ask
/// about them. Recorded only while somebody watches (`tracking`); a
/// transaction that began unwatched, or recorded more than
/// [`ChangeSet::MAX_KEYS`] keys, is published as "anything may have
/// changed".
#[derive(Default)]
pub(crate) struct ChangeSet {
    tracking: bool,
    /// Set when the keys are not all known.
    overflow: bool,
    bytes: Vec<u8>,
    keys: Vec<(TableRef, usize, usize)>,
    tables: Vec<TableRef>,
}

impl ChangeSet {
    /// Past this many keys a transaction stops recording them (a bulk load
    /// would otherwise keep a copy of every key it wrote) and notifies
    /// every subscription instead.
    pub(crate) const MAX_KEYS: usize = 4096;

    /// An empty set that records changes if `tracking`.
    pub(crate) fn new(tracking: bool) -> ChangeSet {
        ChangeSet {
            tracking,
            ..ChangeSet::default()
        }
    }

    /// Records that `key` of the table changed.
    #[inline]
    pub(crate) fn key(&mut self, space: Space, name: &'static str, key: &[u8]) {
        if self.tracking && !self.overflow {
            self.push_key((space, name), key);
        }
    }

    #[cold]
    fn push_key(&mut self, table: TableRef, key: &[u8]) {
        if self.keys.len() >= ChangeSet::MAX_KEYS {
            self.overflow = true;
            self.bytes = Vec::new();
            self.keys = Vec::new();
            return;
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        self.keys.push((table, start, self.bytes.len()));
    }

    /// Records that every key of the table may have changed.
    pub(crate) fn table(&mut self, space: Space, name: &'static str) {
        if self.tracking && !self.tables.contains(&(space, name)) {
            self.tables.push((space, name));
        }
    }

    /// Adds another transaction's changes (a group commit's members).
    pub(crate) fn absorb(&mut self, other: ChangeSet) {
        self.overflow |= other.overflow || !other.tracking;
        if self.overflow {
            return;
        }
        for (table, start, end) in &other.keys {
            self.push_key(*table, &other.bytes[*start..*end]);
        }
        for (space, name) in other.tables {
            self.table(space, name);
        }
    }

    fn is_empty(&self) -> bool {
        self.tracking && !self.overflow && self.keys.is_empty() && self.tables.is_empty()
    }
}

/// One subscription's mailbox: which of its topics fired since it last
/// looked. Its size is fixed by the number of topics, so a subscriber that
/// never looks costs nothing more as commits go on: changes coalesce.
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    ready: Condvar,
}

pub(crate) struct InboxState {
    /// `fired[i]`: topic `i` changed.
    pub(crate) fired: Vec<bool>,
    /// Notifying commits since the last look.
    pub(crate) commits: u64,
    /// The last commit counted in `commits`.
    last_commit: u64,
    pub(crate) closed: bool,
    pub(crate) waker: Option<Waker>,
    /// Threads blocked in `recv`: only then is the condition variable
    /// signalled (a signal is a system call, even with nobody waiting).
    pub(crate) sleepers: u32,
}

impl Inbox {
    pub(crate) fn new(topics: usize) -> Inbox {
        Inbox {
            state: Mutex::new(InboxState {
                fired: vec![false; topics],
                commits: 0,
                last_commit: 0,
                closed: false,
                waker: None,
                sleepers: 0,
            }),
            ready: Condvar::new(),
        }
    }

    /// The mailbox, even if a thread panicked while holding it (its state
    /// is a set of flags, valid at every step).
    pub(crate) fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn ready(&self) -> &Condvar {
        &self.ready
    }

    /// Marks topic `slot` (every topic if `None`) as fired by `commit`.
    fn mark(&self, slot: Option<usize>, commit: u64) {
        let mut s = self.lock();
        let counted = s.last_commit == commit;
        if counted && slot.is_some_and(|i| s.fired[i]) {
            return; // this commit already fired this topic
        }
        match slot {
            Some(i) => s.fired[i] = true,
            None => s.fired.iter_mut().for_each(|f| *f = true),
        }
        if !counted {
            s.last_commit = commit;
            s.commits += 1;
        }
        let waker = s.waker.take();
        let sleepers = s.sleepers > 0;
        drop(s);
        if sleepers {
            self.ready.notify_all();
        }
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        let waker = s.waker.take();
        drop(s);
        self.ready.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A subscription's entry under one watched key or table.
#[derive(Clone)]
struct Watcher {
    id: u64,
    slot: usize,
    inbox: Arc<Inbox>,
}

#[derive(Default)]
struct TableWatchers {
    /// Watching every key of the table.
    any: Vec<Watcher>,
    /// Watching one key.
    keys: HashMap<Box<[u8]>, Vec<Watcher>>,
}

#[derive(Default)]
struct Registry {
    tables: HashMap<TableRef, TableWatchers>,
    /// Every live subscription's mailbox, by id.
    inboxes: HashMap<u64, Arc<Inbox>>,
    next_id: u64,
    commits: u64,
    closed: bool,
}

/// A database's subscriptions. One per [`Db`](crate::Db), shared with its
/// write transactions.
#[derive(Default)]
pub(crate) struct Hub {
    /// Live subscriptions: while 0, transactions record nothing.
    live: AtomicUsize,
    registry: Mutex<Registry>,
    /// A group commit's changes, gathered from its members until it
    /// commits.
    staged: Mutex<ChangeSet>,
}

/// What a subscription watches, as the hub stores it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Watch {
    pub(crate) space: Space,
    pub(crate) name: &'static str,
    /// `None`: every key of the table.
    pub(crate) key: Option<Box<[u8]>>,
}

impl Hub {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn staged(&self) -> MutexGuard<'_, ChangeSet> {
        self.staged.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True while any subscription is live: new write transactions then
    /// record their changes.
    #[inline]
    pub(crate) fn watched(&self) -> bool {
        self.live.load(Ordering::Acquire) > 0
    }

    /// Registers a subscription to `watches`; its id, and its mailbox
    /// (already closed if the database is).
    pub(crate) fn subscribe<'w>(
        &self,
        watches: impl ExactSizeIterator<Item = &'w Watch>,
    ) -> (u64, Arc<Inbox>) {
        let inbox = Arc::new(Inbox::new(watches.len()));
        let mut r = self.registry();
        r.next_id += 1;
        let id = r.next_id;
        if r.closed {
            inbox.close();
            return (id, inbox);
        }
        for (slot, w) in watches.enumerate() {
            let watcher = Watcher {
                id,
                slot,
                inbox: inbox.clone(),
            };
            let table = r.tables.entry((w.space, w.name)).or_default();
            match &w.key {
                None => table.any.push(watcher),
                Some(key) => table.keys.entry(key.clone()).or_default().push(watcher),
            }
        }
        r.inboxes.insert(id, inbox.clone());
        // Counted under the lock, after the entries exist: a transaction
        // that sees the count records its changes, and its publication
        // (which takes the lock) finds these entries.
        self.live.fetch_add(1, Ordering::AcqRel);
        (id, inbox)
    }

    /// Removes subscription `id`'s entries.
    pub(crate) fn unsubscribe<'w>(&self, id: u64, watches: impl Iterator<Item = &'w Watch>) {
        let mut r = self.registry();
        if r.inboxes.remove(&id).is_none() {
            return;
        }
        self.live.fetch_sub(1, Ordering::AcqRel);
        for w in watches {
            let Some(table) = r.tables.get_mut(&(w.space, w.name)) else {
                continue;
            };
            match &w.key {
                None => table.any.retain(|x| x.id != id),
                Some(key) => {
                    if let Some(list) = table.keys.get_mut(key) {
                        list.retain(|x| x.id != id);
                        if list.is_empty() {
                            table.keys.remove(key);
                        }
                    }
                }
            }
            if table.any.is_empty() && table.keys.is_empty() {
                r.tables.remove(&(w.space, w.name));
            }
        }
    }

    /// Delivers a committed transaction's changes.
    pub(crate) fn publish(&self, changes: &ChangeSet) {
        if changes.is_empty() || !self.watched() {
            return;
        }
        let mut r = self.registry();
        r.commits += 1;
        let commit = r.commits;
        if !changes.tracking || changes.overflow {
            // Unknown changes: wake everybody, with every topic.
            for inbox in r.inboxes.values() {
                inbox.mark(None, commit);
            }
            return;
        }
        for table in &changes.tables {
            if let Some(t) = r.tables.get(table) {
                t.any
                    .iter()
                    .for_each(|w| w.inbox.mark(Some(w.slot), commit));
                t.keys
                    .values()
                    .flatten()
                    .for_each(|w| w.inbox.mark(Some(w.slot), commit));
            }
        }
        for (table, start, end) in &changes.keys {
            let Some(t) = r.tables.get(table) else {
                continue;
            };
            t.any
                .iter()
                .for_each(|w| w.inbox.mark(Some(w.slot), commit));
            if let Some(list) = t.keys.get(&changes.bytes[*start..*end]) {
                list.iter().for_each(|w| w.inbox.mark(Some(w.slot), commit));
            }
        }
    }

    /// Wakes every subscription with every topic: a change made below
    /// the typed layer (a restore into a live database).
    pub(crate) fn publish_everything(&self) {
        self.publish(&ChangeSet::new(false));
    }

    /// Adds a group member's changes to the group's.
    pub(crate) fn stage(&self, changes: ChangeSet) {
        self.staged().absorb(changes);
    }

    /// Forgets the staged changes (a group starts or starts over).
    pub(crate) fn discard_staged(&self) {
        *self.staged() = ChangeSet::new(true);
    }

    /// Delivers the group's staged changes: it committed.
    pub(crate) fn publish_staged(&self) {
        let staged = std::mem::replace(&mut *self.staged(), ChangeSet::new(true));
        self.publish(&staged);
    }

    /// The database is closing: every receiver learns it.
    pub(crate) fn close(&self) {
        let mut r = self.registry();
        r.closed = true;
        for inbox in r.inboxes.values() {
            inbox.close();
        }
    }
}
