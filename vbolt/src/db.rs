//! The database handle [`Db`]: opening a file, and beginning transactions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::{EngineOptions, Store};
use crate::error::Error;
use crate::gate::Gate;
use crate::group::{
    BatchJob, Batched, Groups, Job, LeaderGuard, MemberGuard, Outcome, Report, Role, Turn,
    lock_batched,
};
use crate::hub::Hub;
use crate::notify::{Subscription, Topic};
use crate::tx::{ReadTx, WriteTx};

pub use crate::engine::{Durability, Space};
pub use crate::group::CommitStats;

/// An open vbolt database: a single file (or an in-memory database).
///
/// `Db` is `Send + Sync`: open it once, keep it in a `static` or an `Arc`,
/// and begin transactions from any thread.
///
/// ```
/// use vbolt::Db;
/// let dir = tempfile::tempdir()?;
/// let db = Db::open(dir.path().join("app.vbolt"))?;
/// let tx = db.read_tx()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Db {
    store: Store,
    path: Option<PathBuf>,
    writers: Arc<Gate>,
    groups: Groups,
    group_commit: bool,
    hub: Arc<Hub>,
}

/// Settings for [`Db::open_with`].
///
/// ```
/// use vbolt::{Db, Durability, Options};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("app.vbolt");
/// # Db::open(&path)?;
/// let db = Db::open_with(&path, Options::new().cache_size(64 << 20).read_only(true))?;
/// assert!(db.write_tx().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    engine: EngineOptions,
    group_commit: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            engine: EngineOptions::default(),
            group_commit: true,
        }
    }
}

impl Options {
    /// Defaults: durable commits, the engine's default cache, read-write,
    /// group commit on.
    pub fn new() -> Options {
        Options::default()
    }

    /// How durable each commit is (default [`Durability::Immediate`]).
    pub fn durability(mut self, d: Durability) -> Options {
        self.engine.durability = d;
        self
    }

    /// The page cache size in bytes.
    pub fn cache_size(mut self, bytes: usize) -> Options {
        self.engine.cache_size = Some(bytes);
        self
    }

    /// Opens an existing database without ever writing to it; write
    /// transactions fail with [`Error::ReadOnly`]. A file whose last writer
    /// crashed cannot be opened this way ([`Error::NeedsRecovery`]) until a
    /// read-write open has recovered it.
    pub fn read_only(mut self, yes: bool) -> Options {
        self.engine.read_only = yes;
        self
    }

    /// Verifies the whole file when opening it: every page's checksum and
    /// the trees' structure. A file altered since it was last written (a
    /// flipped bit, a bad sector, a foreign write) then fails to open with
    /// [`Error::Corrupted`] instead of being read. Costs a full read of the
    /// file at open; does not apply to read-only opens. Default: off.
    pub fn verify_on_open(mut self, yes: bool) -> Options {
        self.engine.verify_on_open = yes;
        self
    }

    /// Commits through a write-ahead log (default: off). A durable commit
    /// then syncs one sequential write to a log beside the file
    /// (`<file>-wal`, 64 MiB by default) instead of the pages it changed
    /// across the file; the file itself is synced when the log is full
    /// (a checkpoint, inside the commit that found it full) and at close.
    /// The same guarantee as without it: a commit acknowledged as durable
    /// survives a crash.
    ///
    /// Any later open of the file by vbolt, with this option or without,
    /// first replays the commits a crash left in the log (a read-only open
    /// refuses them with [`Error::NeedsRecovery`]); redb opening the file
    /// directly would not. The log names its file by inode: after a
    /// crash, move the two together, or open the original once (which
    /// replays the log) before copying the file alone; a log holding
    /// commits beside a copy is refused with [`Error::Corrupted`]. Files
    /// on Unix only ([`Error::Unsupported`] elsewhere).
    ///
    /// ```
    /// use vbolt::{Db, Options};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("app.vbolt");
    /// let db = Db::open_with(&path, Options::new().write_ahead_log(true))?;
    /// assert!(dir.path().join("app.vbolt-wal").exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_ahead_log(mut self, yes: bool) -> Options {
        self.engine.write_ahead_log = yes.then_some(crate::engine::DEFAULT_LOG_SIZE);
        self
    }

    /// A write-ahead log of `bytes` (see [`Options::write_ahead_log`]): a
    /// larger log means fewer checkpoints, each syncing more of the file.
    pub fn write_ahead_log_size(mut self, bytes: u64) -> Options {
        self.engine.write_ahead_log = Some(bytes);
        self
    }

    /// Whether concurrent [`Db::update`] calls share commits (default:
    /// yes). Off, each `update` is its own transaction and pays its own
    /// durable commit, as [`Db::write_tx`] does. Turn it off when an
    /// update's closure may wait for something (a lock, a channel) that
    /// another thread holds across its own `update` call: in a group, the
    /// callers whose closures ran first wait for the later closures.
    pub fn group_commit(mut self, yes: bool) -> Options {
        self.group_commit = yes;
        self
    }
}

impl Db {
    /// Opens the database file at `path`, creating it if it does not exist.
    ///
    /// Fails with [`Error::InUse`] if another process (or another `Db` in
    /// this process) has it open, [`Error::Corrupted`] if the file is not a
    /// database or is damaged, and [`Error::Io`] for permission and other
    /// I/O problems.
    pub fn open(path: impl AsRef<Path>) -> Result<Db, Error> {
        Db::open_with(path, Options::new())
    }

    /// Opens the database file at `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Db, Error> {
        Ok(Db {
            store: Store::open(path.as_ref(), &options.engine)?,
            path: Some(path.as_ref().to_path_buf()),
            writers: Arc::default(),
            groups: Groups::default(),
            group_commit: options.group_commit,
            hub: Arc::default(),
        })
    }

    /// A new, empty database that lives in memory only (for tests).
    pub fn in_memory() -> Result<Db, Error> {
        Ok(Db {
            store: Store::in_memory()?,
            path: None,
            writers: Arc::default(),
            groups: Groups::default(),
            group_commit: true,
            hub: Arc::default(),
        })
    }

    /// Connects to an etcd cluster (feature `etcd`) and opens the database
    /// kept under `prefix` there; the same application code then runs on
    /// the cluster, shared by every process and machine that opens it.
    ///
    /// `endpoints` are the members' client URLs (`http://10.0.0.1:2379`);
    /// every key of the database starts with `prefix`, so several
    /// databases can share one cluster. A write transaction commits only
    /// if no other commit happened since it began ([`Error::Conflict`]
    /// otherwise, which [`Db::update`] retries); see the crate docs,
    /// section "On an etcd cluster", for what else differs.
    #[cfg(feature = "etcd")]
    pub fn open_etcd<S: AsRef<str>>(endpoints: &[S], prefix: &str) -> Result<Db, Error> {
        let endpoints: Vec<String> = endpoints.iter().map(|e| e.as_ref().to_string()).collect();
        Ok(Db {
            store: Store::open_etcd(&endpoints, prefix)?,
            path: None,
            writers: Arc::default(),
            groups: Groups::default(),
            group_commit: true,
            hub: Arc::default(),
        })
    }

    /// Begins a read transaction (a snapshot).
    pub fn read_tx(&self) -> Result<ReadTx, Error> {
        Ok(ReadTx::new(self.store.begin_read()?))
    }

    /// Begins the write transaction, waiting while another thread holds it.
    ///
    /// Fails at once with [`Error::WriteInProgress`] if this thread already
    /// holds it (waiting would never end), and with [`Error::ReadOnly`] on
    /// a read-only database.
    ///
    /// ```
    /// # use vbolt::*;
    /// let db = Db::in_memory()?;
    /// let tx = db.write_tx()?;
    /// assert!(matches!(db.write_tx(), Err(Error::WriteInProgress)));
    /// drop(tx);
    /// assert!(db.write_tx().is_ok());
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub fn write_tx(&self) -> Result<WriteTx, Error> {
        self.begin_write(None)
    }

    /// [`write_tx`](Db::write_tx), giving up with [`Error::Timeout`] if
    /// another thread still holds the write transaction after `timeout`.
    pub fn write_tx_timeout(&self, timeout: Duration) -> Result<WriteTx, Error> {
        self.begin_write(Some(timeout))
    }

    fn begin_write(&self, timeout: Option<Duration>) -> Result<WriteTx, Error> {
        let turn = self.writers.enter(timeout)?;
        Ok(WriteTx::new(self.store.begin_write()?, turn, &self.hub))
    }

    /// Runs `f` in a write transaction and commits it if `f` returns `Ok`;
    /// if `f` returns `Err`, nothing it wrote is kept and its error is
    /// returned. A failure recorded in the transaction (a write that
    /// failed) makes the commit fail: `Ok` means committed.
    ///
    /// **Group commit.** Calls from several threads at once share one
    /// engine transaction and one durable commit: the first runs its
    /// closure, those that arrived meanwhile run theirs after it (each on
    /// its own thread, each seeing the writes of those before it), and one
    /// commit makes them all durable; then each caller gets its own result.
    /// A caller alone commits at once: nobody waits for company. If a
    /// closure fails (returns `Err`, fails the transaction, or panics),
    /// only its caller sees that failure; the closures that had run in the
    /// same group run again without it. So a closure may run more than
    /// once, and must not do anything outside the transaction that cannot
    /// be repeated (send a message only after `update` returns `Ok`). And
    /// while a closure runs, the callers whose closures ran before it in
    /// its group wait for it: a closure that waits for a lock another
    /// thread holds across its own `update` call would wait forever (turn
    /// grouping off with [`Options::group_commit`] for such code).
    /// [`Db::commit_stats`] shows how much grouping happened. A closure
    /// that owns its data can go through [`Db::batch`] instead, which
    /// runs it on whichever thread holds the group's transaction: faster
    /// when many threads write at once.
    ///
    /// On an etcd cluster (`Db::open_etcd`) a commit can lose to another
    /// writer's ([`Error::Conflict`]): then `f` runs again in a new
    /// transaction, on the new state, with a growing, randomized pause (at
    /// least 20 times, and for at least 10 seconds) before the conflict is
    /// returned.
    ///
    /// `f`'s error type only needs `From<vbolt::Error>`, so one `?` chain
    /// serves vbolt's reads and the application's own checks:
    ///
    /// ```
    /// # use vbolt::*;
    /// static BALANCES: Bucket<String, u64> = Bucket::new("balances", vpack::string_z, vpack::uint);
    ///
    /// #[derive(Debug)]
    /// enum TransferError { Db(vbolt::Error), Insufficient }
    /// impl From<vbolt::Error> for TransferError {
    ///     fn from(e: vbolt::Error) -> Self { TransferError::Db(e) }
    /// }
    ///
    /// fn transfer(db: &Db, from: &str, to: &str, amount: u64) -> Result<(), TransferError> {
    ///     db.update(|tx| {
    ///         let mut have = get(tx, &BALANCES, from)?.unwrap_or(0);
    ///         let mut other = get(tx, &BALANCES, to)?.unwrap_or(0);
    ///         have = have.checked_sub(amount).ok_or(TransferError::Insufficient)?;
    ///         other += amount;
    ///         write(tx, &BALANCES, from, &mut have);
    ///         write(tx, &BALANCES, to, &mut other);
    ///         Ok(())
    ///     })
    /// }
    ///
    /// let db = Db::in_memory()?;
    /// db.update(|tx| {
    ///     write(tx, &BALANCES, "ann", &mut 10);
    ///     Ok::<_, vbolt::Error>(())
    /// })?;
    /// transfer(&db, "ann", "bo", 4).unwrap();
    /// assert!(matches!(transfer(&db, "ann", "bo", 7), Err(TransferError::Insufficient)));
    /// db.view(|tx| {
    ///     assert_eq!(get(tx, &BALANCES, "ann")?, Some(6)); // the failed transfer left nothing
    ///     assert_eq!(get(tx, &BALANCES, "bo")?, Some(4));
    ///     Ok::<_, vbolt::Error>(())
    /// })?;
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub fn update<T, E>(&self, mut f: impl FnMut(&mut WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<Error>,
    {
        if self.writers.held_by_me() {
            return Err(Error::WriteInProgress.into());
        }
        if !self.group_commit {
            return self.update_alone(&mut f);
        }
        loop {
            let step = match self.groups.join(None) {
                Role::Leader => self.lead(&mut f),
                Role::Member(id) => self.serve(id, &mut f),
            };
            if let Some(result) = step {
                return result;
            }
        }
    }

    /// [`Db::update`] for a closure that owns what it uses (`Send` and
    /// `'static`, as for a thread): under group commit, whichever thread
    /// holds the group's transaction runs it in place, where `update`'s
    /// closure must run on its caller's thread and the transaction is
    /// handed there and back. Many concurrent small updates then commit
    /// faster: on the articles benchmark's 16 writers, 2 cores, 200,000
    /// articles, BENCHMARKS.md has the figures. The semantics are
    /// `update`'s: `Ok` means committed and durable, a failing closure
    /// fails only its caller, a closure may run more than once, and a
    /// panic in it unwinds its caller (on its caller's thread).
    ///
    /// The closure's result and error travel back from the thread that
    /// ran it, hence `T: Send` and `E: Send`. Move into it what it needs
    /// (clones, `Arc`s):
    ///
    /// ```
    /// # use vbolt::*;
    /// # use std::sync::Arc;
    /// static VISITS: Bucket<String, u64> = Bucket::new("visits", vpack::string_z, vpack::uint);
    /// let db = Arc::new(Db::in_memory()?);
    /// let threads: Vec<_> = ["ann", "bo", "ann"]
    ///     .into_iter()
    ///     .map(|who| {
    ///         let db = Arc::clone(&db);
    ///         std::thread::spawn(move || {
    ///             db.batch(move |tx| {
    ///                 let mut n = get(tx, &VISITS, who)?.unwrap_or(0) + 1;
    ///                 write(tx, &VISITS, who, &mut n);
    ///                 Ok::<_, Error>(n)
    ///             })
    ///         })
    ///     })
    ///     .collect();
    /// for t in threads {
    ///     t.join().unwrap()?;
    /// }
    /// assert_eq!(db.view(|tx| get(tx, &VISITS, "ann"))?, Some(2));
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    #[doc(alias = "Batch")]
    pub fn batch<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        if self.writers.held_by_me() {
            return Err(Error::WriteInProgress.into());
        }
        if !self.group_commit {
            let mut f = f;
            return self.update_alone(&mut f);
        }
        let cell = Arc::new(Mutex::new(Batched {
            f,
            result: None,
            panic: None,
        }));
        loop {
            let job: Box<dyn Job> = Box::new(BatchJob(Arc::clone(&cell)));
            let step = match self.groups.join(Some(job)) {
                Role::Leader => self.lead(&mut lock_batched(&cell).f),
                Role::Member(id) => match self.groups.wait_outcome(id) {
                    Outcome::Committed | Outcome::Own => {
                        let mut c = lock_batched(&cell);
                        if let Some(panic) = c.panic.take() {
                            drop(c);
                            std::panic::resume_unwind(panic);
                        }
                        // A job told its outcome has run: a missing result
                        // would be a bug of this module, not the caller's.
                        Some(c.result.take().unwrap_or(Err(Error::Finished.into())))
                    }
                    Outcome::Failed(e) => Some(Err(e.into())),
                    Outcome::Again => None,
                },
            };
            if let Some(result) = step {
                return result;
            }
        }
    }

    /// [`Db::update`] without group commit: its own transaction, retried
    /// on a conflict.
    fn update_alone<T, E: From<Error>>(
        &self,
        f: &mut impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut retry = Retry::new();
        loop {
            let mut tx = self.write_tx()?;
            let value = f(&mut tx)?;
            match tx.commit() {
                Ok(()) => {
                    self.groups.count_commit();
                    return Ok(value);
                }
                Err(Error::Conflict) if retry.again() => drop(value),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Leads a group commit (see [`crate::group`]): runs `f`, then each
    /// member's closure, then commits for all. `None`: this caller must
    /// join again (never, for a leader; kept for symmetry with `serve`).
    fn lead<T, E: From<Error>>(
        &self,
        f: &mut impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let mut guard = LeaderGuard {
            groups: &self.groups,
            done: false,
        };
        let turn = match self.writers.enter(None) {
            Ok(turn) => turn,
            Err(e) => return Some(Err(e.into())), // the guard lets the members rejoin
        };
        let mut retry = Retry::new();
        loop {
            self.hub.discard_staged();
            let txn = match self.store.begin_write() {
                Ok(txn) => txn,
                Err(e) => {
                    self.groups.fail_all(&e);
                    guard.done = true;
                    return Some(Err(e.into()));
                }
            };
            // The leader's own closure first.
            let mut tx = WriteTx::grouped(txn, &self.hub);
            let result = f(&mut tx);
            let (kv, recorded, changes) = tx.into_parts();
            let (value, txn) = match (result, recorded, kv) {
                (Ok(v), None, Some(kv)) => {
                    self.hub.stage(changes);
                    (v, kv)
                }
                (Err(e), _, _) => return Some(Err(e)),
                (Ok(_), Some(e), _) => return Some(Err(e.into())),
                (Ok(_), None, None) => return Some(Err(Error::Finished.into())),
            };
            // Then each member's, on the member's thread.
            let mut current = Some(txn);
            while let Some(txn) = current.take() {
                let Some(mut member) = self.groups.next_member() else {
                    current = Some(txn);
                    break;
                };
                // A job runs here, on the leader's thread.
                if let Some(job) = member.job.as_mut() {
                    let mut tx = WriteTx::grouped(txn, &self.hub);
                    let ok = job.run(&mut tx);
                    let (kv, recorded, changes) = tx.into_parts();
                    match (ok, recorded, kv) {
                        (true, None, Some(kv)) => {
                            self.hub.stage(changes);
                            self.groups.ran_in_place(member);
                            current = Some(kv);
                        }
                        (ok, recorded, _) => {
                            if ok {
                                job.fail(recorded.unwrap_or(Error::Finished));
                            }
                            self.groups.release(member);
                            self.groups.rerun();
                        }
                    }
                    continue;
                }
                self.writers.lend(member.thread.id());
                let (kv, report) = self.groups.hand(&member, txn);
                self.writers.reclaim();
                match (kv, report) {
                    // Every queued member ran; the group is closed.
                    (Some(kv), Report::Ran) => current = Some(kv),
                    // The member failed with writes in the transaction:
                    // start over without it.
                    _ => self.groups.rerun(),
                }
            }
            let Some(txn) = current else {
                continue;
            };
            match txn.commit() {
                Ok(()) => {
                    self.groups.count_commit();
                    self.hub.publish_staged();
                    self.groups.finish(|| Outcome::Committed);
                    guard.done = true;
                    drop(turn);
                    return Some(Ok(value));
                }
                Err(Error::Conflict) if retry.again() => self.groups.rerun(),
                Err(e) => {
                    self.groups.finish(|| Outcome::Failed(e.duplicate()));
                    guard.done = true;
                    return Some(Err(e.into()));
                }
            }
        }
    }

    /// Takes part in a group commit as a member: runs `f` in its turn and
    /// waits for the group's outcome. `None`: join again (the group was
    /// abandoned, or must run again without another member).
    fn serve<T, E: From<Error>>(
        &self,
        id: u64,
        f: &mut impl FnMut(&mut WriteTx) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let txn = match self.groups.wait_turn(id) {
            Turn::Run(txn) => txn,
            Turn::Word(Outcome::Again) => return None,
            Turn::Word(Outcome::Failed(e)) => return Some(Err(e.into())),
            // Word of a finished run before any turn: not for a member
            // without a job (it is told in its turn), kept for totality.
            Turn::Word(Outcome::Committed | Outcome::Own) => {
                return Some(Err(Error::Finished.into()));
            }
        };
        let mut guard = MemberGuard {
            groups: &self.groups,
            armed: true,
        };
        let mut tx = WriteTx::grouped(txn, &self.hub);
        let result = f(&mut tx);
        let (kv, recorded, changes) = tx.into_parts();
        guard.armed = false;
        let value = match (result, recorded, kv) {
            (Ok(v), None, Some(kv)) => {
                self.hub.stage(changes);
                self.groups.pass_on(id, kv, |next| self.writers.lend(next));
                v
            }
            (result, recorded, kv) => {
                self.groups.give_back(kv, Report::Failed);
                return Some(match (result, recorded) {
                    (Err(e), _) => Err(e),
                    (Ok(_), Some(e)) => Err(e.into()),
                    (Ok(_), None) => Err(Error::Finished.into()),
                });
            }
        };
        match self.groups.wait_outcome(id) {
            Outcome::Committed => Some(Ok(value)),
            Outcome::Failed(e) => Some(Err(e.into())),
            Outcome::Again => None,
            // Only a member with a job is told this.
            Outcome::Own => Some(Err(Error::Finished.into())),
        }
    }

    /// How many [`Db::update`] calls committed since this handle was
    /// opened, and in how many engine commits: concurrent updates share
    /// commits (see [`Db::update`]).
    ///
    /// ```
    /// # use vbolt::*;
    /// let db = Db::in_memory()?;
    /// db.update(|_| Ok::<_, Error>(()))?;
    /// assert_eq!(db.commit_stats(), CommitStats { updates: 1, commits: 1 });
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub fn commit_stats(&self) -> CommitStats {
        self.groups.stats()
    }

    /// Watches `topics`: the returned [`Subscription`] wakes after each
    /// commit that changed one of them (see [`notify`](crate::notify) for
    /// what is delivered, and the example there). Subscribe *before*
    /// reading the state you follow, so that no commit falls between.
    ///
    /// ```
    /// # use vbolt::*;
    /// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::fuint, vpack::string);
    /// let db = Db::in_memory()?;
    /// let sub = db.subscribe([Topic::key(&NAMES, 1)?]);
    /// db.update(|tx| {
    ///     write(tx, &NAMES, 1, &mut "ann".to_string());
    ///     Ok::<_, Error>(())
    /// })?;
    /// assert_eq!(sub.try_recv().unwrap().map(|c| c.commits()), Some(1));
    /// assert_eq!(sub.try_recv().unwrap(), None); // taken
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub fn subscribe(&self, topics: impl IntoIterator<Item = Topic>) -> Subscription {
        Subscription::new(self.hub.clone(), topics.into_iter().collect())
    }

    /// Runs `f` in a read transaction (a snapshot) and returns what it
    /// returns. If a fill-in read in `f` recorded a failure (see
    /// [`read`](crate::read)), that failure is returned instead.
    ///
    /// ```
    /// # use vbolt::*;
    /// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::fuint, vpack::string);
    /// let db = Db::in_memory()?;
    /// let found = db.view(|tx| has_key(tx, &NAMES, 1))?;
    /// assert!(!found);
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub fn view<T, E>(&self, f: impl FnOnce(&ReadTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<Error>,
    {
        let tx = self.read_tx()?;
        let value = f(&tx)?;
        tx.finish()?;
        Ok(value)
    }

    /// The file this database was opened from (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub(crate) fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Runs `load` on the engine while holding the write turn (no write
    /// transaction of this handle runs meanwhile), then wakes every
    /// subscription: what `load` wrote bypassed the typed layer that
    /// records changes.
    pub(crate) fn load_directly<T>(
        &self,
        load: impl FnOnce(&Store) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let turn = self.writers.enter(None)?;
        let result = load(&self.store);
        drop(turn);
        self.hub.publish_everything();
        result
    }

    /// Runs the storage engine's own check of the whole file: every page's
    /// checksum and the trees' structure. Returns `Ok(true)` if the file is
    /// clean, `Ok(false)` if damage was found **and repaired** (the engine
    /// rewrote the file), `Err` if it cannot be repaired. Needs the database
    /// to itself (no open transaction). vbolt's own invariants are checked
    /// by [`check`](crate::check), which never writes.
    ///
    /// This is a repair tool, not a question: a repair may return the file
    /// to the commit before the last, and after damage it cannot repair the
    /// engine leaves the file marked for repair, so read-only opens fail
    /// with [`Error::NeedsRecovery`] until a read-write open (which does not
    /// mend the damage). To only ask whether a file is sound, run it on a
    /// copy, as `vbolt check --engine` does; opening with
    /// [`Options::verify_on_open`] also checks without marking the file.
    pub fn check_engine(&mut self) -> Result<bool, Error> {
        self.store.check_engine()
    }

    /// How the file's space is used: stored, bookkeeping, and free
    /// (fragmented) bytes. Needs a writable database (it looks through a
    /// write transaction that is dropped, writing nothing).
    pub fn space(&self) -> Result<Space, Error> {
        self.store.space()
    }

    /// Engine-level table names and entry counts, for inspection tools.
    pub fn raw_tables(&self) -> Result<Vec<(String, u64)>, Error> {
        self.store.list_tables()
    }
}

impl Drop for Db {
    /// Wakes every subscription with [`Closed`](crate::notify::Closed).
    fn drop(&mut self) {
        self.hub.close();
    }
}

/// The retries of [`Db::update`] after a conflict: at least
/// [`Retry::MIN_ATTEMPTS`], and more until [`Retry::BUDGET`] has passed
/// (a cluster electing a new leader stalls every writer for about a
/// second), each after a pause that doubles (from 1 ms, at most 100 ms),
/// randomized so that writers that collided do not collide again in step.
struct Retry {
    attempts: u32,
    pause: Duration,
    start: std::time::Instant,
}

impl Retry {
    const MIN_ATTEMPTS: u32 = 20;
    const BUDGET: Duration = Duration::from_secs(10);

    fn new() -> Retry {
        Retry {
            attempts: 0,
            pause: Duration::from_millis(1),
            start: std::time::Instant::now(),
        }
    }

    /// Waits before another attempt; false when the attempts are used up.
    fn again(&mut self) -> bool {
        self.attempts += 1;
        if self.attempts > Retry::MIN_ATTEMPTS && self.start.elapsed() > Retry::BUDGET {
            return false;
        }
        std::thread::sleep(self.pause.mul_f64(0.5 + jitter()));
        self.pause = (self.pause * 2).min(Duration::from_millis(100));
        true
    }
}

/// A number in `[0, 1)` that differs between threads and calls.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
