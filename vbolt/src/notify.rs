//! Commit notifications: wake a thread or a task after a commit changed a
//! bucket key or an index term it watches.
//!
//! A [`Subscription`] watches a fixed list of [`Topic`]s. After a write
//! transaction commits (durable, and visible to every read transaction
//! begun from then on), each subscription that watches something it
//! changed is woken; a transaction that rolled back or failed to commit
//! wakes nobody. The subscriber then reads the new state in a read
//! transaction of its own: a notification says *what* changed, never the
//! new values, so it can never disagree with the database.
//!
//! ```
//! use vbolt::*;
//! use std::time::Duration;
//!
//! static SCORES: Bucket<String, u64> = Bucket::new("scores", vpack::key::string_z(), vpack::uint);
//!
//! let db = std::sync::Arc::new(Db::in_memory()?);
//! let sub = db.subscribe([Topic::key(&SCORES, "ann")?]);
//!
//! let writer = db.clone();
//! std::thread::spawn(move || {
//!     writer.update(|tx| {
//!         write(tx, &SCORES, "bo", &mut 3); // not watched
//!         write(tx, &SCORES, "ann", &mut 7);
//!         Ok::<_, Error>(())
//!     })
//! });
//!
//! let changes = sub.recv_timeout(Duration::from_secs(10)).unwrap().expect("woken");
//! assert_eq!(changes.topics(), [0]); // the first (and only) topic
//! assert_eq!(db.view(|tx| get(tx, &SCORES, "ann"))?, Some(7));
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # Bounded, never blocking
//!
//! A subscription's mailbox holds one flag per topic and a count of
//! commits, nothing else: changes that arrive before the subscriber looks
//! **coalesce** into one wake-up that names every topic that fired. A slow
//! or stalled subscriber therefore neither grows memory nor slows commits;
//! it simply sees several commits at once. Dropping the subscription
//! removes it. While no subscription exists, write transactions record
//! nothing and commits pay one atomic load.
//!
//! # What is delivered
//!
//! - [`Changes::topics`] lists the topics that fired, as indexes into the
//!   list given to [`Db::subscribe`](crate::Db::subscribe).
//! - A wake-up may be **spurious**: a topic can fire without a visible
//!   change (a key rewritten with the same value, a term whose entry moved
//!   and moved back), and in two rare cases every topic fires at once: a
//!   transaction that wrote more than 4,096 keys, and a transaction that
//!   began before the first subscription of its database existed. Treat a
//!   wake-up as "read again", not as a diff.
//! - A change is never missed: subscribe first, then read the current
//!   state, then wait; any commit that your read did not see wakes you.
//! - A bucket key fires on [`write`](crate::write) and
//!   [`delete`](crate::delete); an index term fires when a target is added
//!   to it, removed from it, or changes priority in it
//!   ([`set_target_terms`](crate::set_target_terms) and its forms);
//!   [`rebuild_index`](crate::rebuild_index) fires every term, and
//!   [`restore_into`](crate::restore_into) every topic.
//! - Only commits made through this [`Db`](crate::Db) handle are seen:
//!   on an etcd cluster another process's commits do not wake this one.
//!
//! # Threads and async tasks
//!
//! [`Subscription::recv`] blocks the thread; [`Subscription::changed`] is a
//! future for async code. It uses only `std`'s waker, so it runs on any
//! executor (tokio, async-std, a hand-written one) and vbolt pulls in
//! none:
//!
//! ```
//! # use vbolt::*;
//! async fn follow(sub: Subscription) {
//!     while let Ok(changes) = sub.changed().await {
//!         // read the new state, push it to the client...
//! #       let _ = changes;
//!     }
//!     // Err(Closed): the database was dropped.
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::bucket::Bucket;
use crate::error::Error;
use crate::hub::{Hub, Inbox, InboxState, Space, Watch};
use crate::index::Index;
use crate::key::AsKey;

/// Something a [`Subscription`] watches: one bucket key, one index term,
/// or every key of a bucket or every term of an index.
///
/// ```
/// # use vbolt::*;
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::key::fuint(), vpack::string);
/// static TAGS: Index<String, u64> = Index::new("tags", vpack::key::string_z(), vpack::key::fuint());
///
/// let topics = [
///     Topic::key(&USERS, 7)?,        // user 7 written or deleted
///     Topic::term(&TAGS, "rust")?,   // the term "rust" gained, lost or moved a target
///     Topic::bucket(&USERS),         // any user
/// ];
/// # Ok::<(), vbolt::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Topic(Watch);

impl Topic {
    /// One key of `bucket`. Fails if the key cannot be packed
    /// ([`Error::Encode`]) or is the zero key ([`Error::ZeroKey`]), which
    /// no write can touch.
    pub fn key<K, V>(bucket: &Bucket<K, V>, key: impl AsKey<K>) -> Result<Topic, Error> {
        if key.is_zero() {
            return Err(Error::ZeroKey {
                table: bucket.name(),
            });
        }
        Topic::packed(Space::BucketKey, bucket.name(), key, bucket.key)
    }

    /// Every key of `bucket`.
    pub fn bucket<K, V>(bucket: &Bucket<K, V>) -> Topic {
        Topic(Watch {
            space: Space::BucketKey,
            name: bucket.name(),
            key: None,
        })
    }

    /// One term of `index`: fires when a target is added to the term,
    /// removed from it, or changes priority in it. Fails if the term
    /// cannot be packed ([`Error::Encode`]). The zero value is a term like
    /// any other (an index stores it), so it can be watched.
    pub fn term<T, K, P>(index: &Index<T, K, P>, term: impl AsKey<T>) -> Result<Topic, Error> {
        Topic::packed(Space::IndexTerm, index.name(), term, index.term)
    }

    /// Every term of `index`.
    pub fn index<T, K, P>(index: &Index<T, K, P>) -> Topic {
        Topic(Watch {
            space: Space::IndexTerm,
            name: index.name(),
            key: None,
        })
    }

    fn packed<K>(
        space: Space,
        name: &'static str,
        key: impl AsKey<K>,
        pack: vpack::PackFn<K>,
    ) -> Result<Topic, Error> {
        let mut bytes = Vec::new();
        key.pack_into(pack, &mut bytes)
            .map_err(|source| Error::Encode {
                table: name,
                source,
            })?;
        Ok(Topic(Watch {
            space,
            name,
            key: Some(bytes.into()),
        }))
    }

    /// The bucket's or index's declared name.
    pub fn table(&self) -> &'static str {
        self.0.name
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0.space {
            Space::BucketKey => "bucket",
            Space::IndexTerm => "index",
        };
        write!(f, "Topic({kind} {:?}", self.0.name)?;
        match &self.0.key {
            Some(k) => {
                f.write_str(" ")?;
                k.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
            }
            None => f.write_str(" *")?,
        }
        f.write_str(")")
    }
}

/// What woke a [`Subscription`]: the topics that fired since it last
/// looked, and over how many commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    topics: Vec<usize>,
    commits: u64,
}

impl Changes {
    /// The indexes (into the subscribed list, ascending) of the topics
    /// that fired.
    pub fn topics(&self) -> &[usize] {
        &self.topics
    }

    /// True if topic `index` fired.
    pub fn contains(&self, index: usize) -> bool {
        self.topics.binary_search(&index).is_ok()
    }

    /// How many commits coalesced into this wake-up (at least 1).
    pub fn commits(&self) -> u64 {
        self.commits
    }
}

/// The receiver's answer once the database has been dropped: no commit
/// can come any more. Changes committed before are still delivered first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the database was closed")
    }
}

impl std::error::Error for Closed {}

/// A live watch on some [`Topic`]s, made by
/// [`Db::subscribe`](crate::Db::subscribe); see the [module
/// docs](crate::notify) for what is delivered and when.
///
/// It is `Send + Sync` and owns what it needs (no borrow of the `Db`), so
/// it can move into a thread or a spawned task. Dropping it unsubscribes.
pub struct Subscription {
    hub: Arc<Hub>,
    inbox: Arc<Inbox>,
    id: u64,
    topics: Vec<Topic>,
}

impl Subscription {
    pub(crate) fn new(hub: Arc<Hub>, topics: Vec<Topic>) -> Subscription {
        let (id, inbox) = hub.subscribe(topics.iter().map(|t| &t.0));
        Subscription {
            hub,
            inbox,
            id,
            topics,
        }
    }

    /// The topics watched, in the order given.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// Waits until a watched topic changes.
    pub fn recv(&self) -> Result<Changes, Closed> {
        let mut s = self.inbox.lock();
        loop {
            if let Some(answer) = take(&mut s) {
                return answer;
            }
            s.sleepers += 1;
            s = self
                .inbox
                .ready()
                .wait(s)
                .unwrap_or_else(|p| p.into_inner());
            s.sleepers -= 1;
        }
    }

    /// [`recv`](Subscription::recv), giving up after `timeout`:
    /// `Ok(None)` then.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<Changes>, Closed> {
        let deadline = Instant::now() + timeout;
        let mut s = self.inbox.lock();
        loop {
            if let Some(answer) = take(&mut s) {
                return answer.map(Some);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            s.sleepers += 1;
            s = match self.inbox.ready().wait_timeout(s, left) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
            s.sleepers -= 1;
        }
    }

    /// The changes waiting, if any, without blocking.
    pub fn try_recv(&self) -> Result<Option<Changes>, Closed> {
        take(&mut self.inbox.lock()).transpose()
    }

    /// A future that resolves when a watched topic changes: the async form
    /// of [`recv`](Subscription::recv).
    pub fn changed(&self) -> Changed<'_> {
        Changed { sub: self }
    }
}

/// Takes the waiting changes; `None` when there are none and the database
/// is open.
fn take(s: &mut InboxState) -> Option<Result<Changes, Closed>> {
    if s.commits > 0 {
        let topics = s
            .fired
            .iter_mut()
            .enumerate()
            .filter_map(|(i, f)| std::mem::take(f).then_some(i))
            .collect();
        let commits = std::mem::take(&mut s.commits);
        return Some(Ok(Changes { topics, commits }));
    }
    s.closed.then_some(Err(Closed))
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub
            .unsubscribe(self.id, self.topics.iter().map(|t| &t.0));
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

/// The future of [`Subscription::changed`].
#[must_use = "a future does nothing unless awaited"]
pub struct Changed<'s> {
    sub: &'s Subscription,
}

impl Future for Changed<'_> {
    type Output = Result<Changes, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.sub.inbox.lock();
        if let Some(answer) = take(&mut s) {
            return Poll::Ready(answer);
        }
        match &mut s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
