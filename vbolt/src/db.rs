//! The database handle [`Db`]: opening a file, and beginning transactions.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Store;
use crate::error::Error;
use crate::gate::Gate;
use crate::group::{Ctx, Groups};
use crate::hub::Hub;
use crate::links::Links;
use crate::notify::{Subscription, Topic};
use crate::tx::{ReadTx, Shared, WriteTx};

pub use crate::engine::{Durability, Space};
pub use crate::group::CommitStats;
#[cfg(feature = "etcd")]
use crate::options::EtcdOptions;
use crate::options::Options;

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
    hub: Arc<Hub>,
    links: Arc<Links>,
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
        let store = Store::open(path.as_ref(), &options.engine)?;
        Ok(Db::with_store(
            store,
            Some(path.as_ref().to_path_buf()),
            options.group_commit,
        ))
    }

    /// A new, empty database that lives in memory only (for tests).
    pub fn in_memory() -> Result<Db, Error> {
        Ok(Db::with_store(Store::in_memory()?, None, true))
    }

    fn with_store(store: Store, path: Option<PathBuf>, group_commit: bool) -> Db {
        let writers = Arc::new(Gate::default());
        Db {
            store,
            path,
            groups: Groups::new(Arc::clone(&writers), group_commit),
            writers,
            hub: Arc::default(),
            links: Arc::default(),
        }
    }

    /// What a group of updates runs against.
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: &self.store,
            hub: &self.hub,
            shared: self.shared(),
        }
    }

    /// What this database's write transactions share.
    fn shared(&self) -> Shared<'_> {
        Shared {
            hub: &self.hub,
            links: &self.links,
        }
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
    /// section "On an etcd cluster", for what else differs. The settings
    /// are [`EtcdOptions`]'s defaults ([`Db::open_etcd_with`] chooses).
    #[cfg(feature = "etcd")]
    pub fn open_etcd<S: AsRef<str>>(endpoints: &[S], prefix: &str) -> Result<Db, Error> {
        Db::open_etcd_with(endpoints, prefix, EtcdOptions::new())
    }

    /// [`Db::open_etcd`] with `options`: the cluster's limits per
    /// transaction, the deadline of one request, and group commit.
    #[cfg(feature = "etcd")]
    pub fn open_etcd_with<S: AsRef<str>>(
        endpoints: &[S],
        prefix: &str,
        options: EtcdOptions,
    ) -> Result<Db, Error> {
        let endpoints: Vec<String> = endpoints.iter().map(|e| e.as_ref().to_string()).collect();
        let store = Store::open_etcd(&endpoints, prefix, &options.engine)?;
        Ok(Db::with_store(store, None, options.group_commit))
    }

    /// Turns the strict index check on or off for the transactions that
    /// begin from now on (off by default; meant for tests and
    /// development).
    ///
    /// On, each write transaction remembers the index entries it writes and
    /// the bucket keys it deletes, and before it commits checks them against
    /// the links that [`ensure_buckets`](crate::ensure_buckets) registered
    /// ([`Index::targets_in`](crate::Index::targets_in),
    /// [`Index::terms_in`](crate::Index::terms_in)): a transaction that
    /// would leave an entry pointing at a missing key fails with
    /// [`Error::Dangling`] and commits nothing. The cost follows what the
    /// transaction touched: a lookup per index entry written and per linked
    /// key deleted. Off, it is one flag test per transaction. The example
    /// is on [`Index::targets_in`](crate::Index::targets_in).
    pub fn strict_indexes(&self, on: bool) {
        self.links.set_strict(on);
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
        Ok(WriteTx::new(self.store.begin_write()?, turn, self.shared()))
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
    /// returned; after three losses in a row the writer claims priority
    /// over the others, so it does not starve. The crate docs list every
    /// outcome and when it happens ([what a write's outcome
    /// means](crate#what-a-writes-outcome-means)).
    ///
    /// `f`'s error type only needs `From<vbolt::Error>`, so one `?` chain
    /// serves vbolt's reads and the application's own checks:
    ///
    /// ```
    /// # use vbolt::*;
    /// static BALANCES: Bucket<String, u64> = Bucket::new("balances", vpack::key::string_z(), vpack::uint);
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
    pub fn update<T, E>(&self, f: impl FnMut(&mut WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<Error>,
    {
        self.groups.update(self.ctx(), f)
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
    /// static VISITS: Bucket<String, u64> = Bucket::new("visits", vpack::key::string_z(), vpack::uint);
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
        self.groups.batch(self.ctx(), f)
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
    /// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
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
    /// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
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
