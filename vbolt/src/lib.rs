//! # vbolt: buckets and indexes as plain function calls
//!
//! vbolt turns an ordered, transactional key-value engine into a storage
//! layer an application talks to with functions: no query language, no ORM,
//! no implicit indexing. Two persisted data structures do all the work:
//!
//! - a [`Bucket`] is a persisted map `key -> value`;
//! - an [`Index`] is a persisted many-to-many map `term <-> target`, each
//!   pair with a priority that orders the term's targets, an exact count per
//!   term, and paginated reads.
//!
//! Both are declared once, as `static`s, with the [vpack] pack functions of
//! their keys and values; the functions of this crate read and write them
//! inside transactions.
//!
//! ```
//! use vbolt::*;
//! use vpack::Pack;
//!
//! // The pack function (vpack::Pack) is derived; it can be written by hand.
//! #[derive(Pack, Debug, PartialEq)]
//! #[pack(version = 1)]
//! struct Article { title: String, category_ids: Vec<u32> }
//!
//! static ARTICLES: Bucket<u64, Article> = Bucket::new("articles", vpack::key::fuint(), Article::pack);
//! // category id (term) -> article ids (targets)
//! static CATEGORY_ARTICLES: Index<u32, u64> = Index::new("category_articles", vpack::key::fuint(), vpack::key::fuint());
//!
//! let db = Db::in_memory()?;
//!
//! // Writing: the article and its index entries commit together, or not at all.
//! let id = db.update(|tx| {
//!     let id = next_int_id(tx, &ARTICLES);
//!     let mut article = Article { title: "Hello".into(), category_ids: vec![3, 5] };
//!     write(tx, &ARTICLES, id, &mut article);
//!     set_target_terms_plain(tx, &CATEGORY_ARTICLES, id, &article.category_ids);
//!     Ok::<_, Error>(id)
//! })?;
//!
//! // Reading: find the category's articles through the index, then load them.
//! let tx = db.read_tx()?;
//! let mut ids = Vec::new();
//! read_term_targets(&tx, &CATEGORY_ARTICLES, 5, &mut ids, &Window::new().limit(30))?;
//! let mut articles = Vec::new();
//! read_slice(&tx, &ARTICLES, &ids, &mut articles)?;
//! assert_eq!(articles[0].title, "Hello");
//! assert_eq!(get(&tx, &ARTICLES, id)?.map(|a| a.category_ids), Some(vec![3, 5]));
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! The same calls in the shape an application gives them: an error type of
//! its own that a vbolt error converts into, so one `?` chain runs through
//! both; `&str` keys; times as priorities; iterators.
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use vbolt::*;
//! use vpack::Pack;
//!
//! #[derive(Pack, Debug, PartialEq)]
//! #[pack(version = 1)]
//! struct Post { author: String, body: String, at: SystemTime }
//!
//! static POSTS: Bucket<u64, Post> = Bucket::new("posts", vpack::key::fuint(), Post::pack);
//! // thread (term) -> posts (targets), ordered by the time they were posted
//! static THREAD_POSTS: Index<String, u64, SystemTime> =
//!     Index::with_priority("thread_posts", vpack::key::string_z(), vpack::key::fuint(), vpack::key::unix_time_milli_ord());
//!
//! #[derive(Debug)]
//! enum ForumError { Store(vbolt::Error), Missing(u64) }
//! impl From<vbolt::Error> for ForumError {
//!     fn from(e: vbolt::Error) -> Self { ForumError::Store(e) }
//! }
//!
//! fn reply(db: &Db, thread: &str, author: &str, body: &str, at: SystemTime) -> Result<u64, ForumError> {
//!     db.update(|tx| {
//!         let id = next_int_id(tx, &POSTS);
//!         write(tx, &POSTS, id, &mut Post { author: author.into(), body: body.into(), at });
//!         set_target_single_term_ext(tx, &THREAD_POSTS, id, thread, at);
//!         Ok(id)
//!     })
//! }
//!
//! /// The newest `n` posts of a thread, newest first.
//! fn latest(db: &Db, thread: &str, n: usize) -> Result<Vec<Post>, ForumError> {
//!     db.view(|tx| {
//!         term_targets(tx, &THREAD_POSTS, thread, &Window::new().limit(n).reverse())
//!             .map(|entry| {
//!                 let (id, _posted) = entry?;
//!                 get(tx, &POSTS, id)?.ok_or(ForumError::Missing(id))
//!             })
//!             .collect()
//!     })
//! }
//!
//! let db = Db::in_memory()?;
//! let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! for (i, body) in ["first!", "welcome", "thanks"].into_iter().enumerate() {
//!     reply(&db, "intro", "ada", body, t0 + Duration::from_secs(i as u64))?;
//! }
//! let bodies: Vec<String> = latest(&db, "intro", 2)?.into_iter().map(|p| p.body).collect();
//! assert_eq!(bodies, ["thanks", "welcome"]);
//! assert!(latest(&db, "no such thread", 10)?.is_empty());
//! # Ok::<(), ForumError>(())
//! ```
//!
//! # Transactions
//!
//! [`Db::view`] runs a closure in a snapshot; [`Db::update`] runs one in the
//! write transaction and commits it if the closure returns `Ok` (and rolls
//! it back if it returns `Err`). Any number of snapshots can run at once,
//! from any threads, while one write transaction writes; a second
//! [`Db::write_tx`] waits for the first, except on the thread that holds it,
//! where it fails at once ([`Error::WriteInProgress`]) instead of waiting
//! forever. [`Db::read_tx`] and [`Db::write_tx`] give the transactions
//! themselves; a [`WriteTx`] commits only with [`WriteTx::commit`], and
//! dropped without it, rolls back.
//!
//! Reading functions accept either kind (`&impl Readable`); writing
//! functions demand `&mut WriteTx`, so writing in a read transaction is a
//! compile error.
//!
//! A commit that returns `Ok` is durable. Concurrent [`Db::update`] and
//! [`Db::batch`] calls share one durable commit (group commit), and
//! [`Options::write_ahead_log`] makes each durable commit one sequential
//! write to a log beside the file instead of a sync of the pages it
//! changed.
//!
//! # Errors
//!
//! - **Reads** return `Result`, so `?` works on every one. Absence is a
//!   value (`Ok(None)`, `Ok(false)`, an empty page); a failure is an error:
//!   a stored value that does not unpack is [`Error::Decode`], naming the
//!   bucket or index, the key in hex and vpack's reason; never "absent",
//!   never skipped while iterating. The fill-in [`read`] answers `bool` and
//!   records its failure in the transaction instead (see below).
//! - **Writes** return nothing. The first failure (I/O, a full disk, a key
//!   or value that cannot be packed, the zero key, a write after commit) is
//!   recorded in the transaction; every later write in it is a no-op; and
//!   [`WriteTx::commit`] returns that failure and commits nothing. One
//!   check, at the one place it matters.
//! - **Opening and beginning** return `Result` ([`Db::open`],
//!   [`Db::read_tx`], [`Db::write_tx`]).
//!
//! vbolt does not panic on bad data, I/O failure or a full disk.
//!
//! ## What a write's outcome means
//!
//! [`Db::update`] and [`Db::batch`] give each caller exactly its own
//! outcome, also when its update shared a commit with others (group
//! commit) and whatever the other callers' closures did:
//!
//! | outcome | means | when |
//! |---|---|---|
//! | `Ok(value)` | the closure's writes are committed, durable (fsync on a file, a majority of members on etcd) and visible to new snapshots | always, when the commit succeeded; never before |
//! | the closure's own `Err` (or its panic, resumed on the caller's thread) | nothing it wrote is kept | the closure returned `Err` or panicked; no other caller is affected |
//! | a failure recorded in its transaction ([`Error::ZeroKey`], [`Error::Encode`], ...) | nothing it wrote is kept | one of its writes failed; no other caller is affected |
//! | [`Error::Conflict`] | nothing was written | etcd only: every attempt lost to other writers' commits for the whole retry budget (at least 20 attempts and 10 s). A writer that keeps losing claims priority after three losses, so this takes a cluster where no commit of this writer can land at all (a claim held by a stalled writer for its 2 s lease, at most, does not) |
//! | [`Error::CommitUnknown`] | the commit may or may not be in the database | etcd only: the answer to the commit was lost and no member could tell what happened for 30 s, or the cluster compacted the history that tells. A commit that landed is never reported as failed, nor one that did not as done |
//! | [`Error::LimitExceeded`] | nothing was written | etcd only: the caller's own update, alone in its transaction, is past the cluster's operations or bytes per request (`EtcdOptions`, feature `etcd`). Group commit cuts its groups to fit, so another caller's size never fails this one |
//! | [`Error::WriteInProgress`] | nothing was done | the calling thread already holds the write transaction: a closure (or the code around a [`WriteTx`]) asked for another one, which would wait for itself forever. Never because of another thread |
//! | [`Error::Timeout`] | nothing was done | only [`Db::write_tx_timeout`], when another thread held the write transaction for the whole time |
//! | any other error ([`Error::Io`], [`Error::Engine`], ...) | the commit failed; nothing of the group is kept | the engine failed to commit (a full disk, a lost file); every caller whose closure ran in that group gets it |
//!
//! # Keys
//!
//! Wherever a key, a term or a target is expected, a function takes any
//! [`AsKey`]: the value (`7`), a reference (`&id`), or, for `String` and
//! `Vec<u8>` keys, a `&str` or `&[u8]` (packed with no allocation).
//!
//! A key, term, target or priority type is any type with a
//! [`vpack::Blank`] value, the value a read starts from: every type vpack
//! packs (integers, strings, byte vectors, arrays, tuples, `Option`,
//! `Uuid`, `SystemTime`) and every `#[derive(Pack)]` type. A newtype with a
//! hand-written pack function implements `Blank` in one line. (A bucket's
//! values start from their `Default`.)
//!
//! **The zero key.** The blank value of a key type (`0`, `""`, an empty
//! byte string, the nil UUID, the Unix epoch) means "no key". Reading it finds nothing; writing
//! or deleting under it (or setting the terms of a zero target) fails the
//! transaction with [`Error::ZeroKey`]. A missing id can flow through read
//! code unchecked, but is never stored by mistake. Index terms may be zero
//! values.
//!
//! **Order.** Entries are kept sorted by the bytes of their packed keys, so
//! the key's pack function decides the iteration order: `fuint`,
//! `fint_ord`, `string_z`, `unix_time_ord` and `uuid` sort as their values
//! do; `uint`, `int` and `string` (length-prefixed) do not. An index's
//! targets are sorted by (priority bytes, target bytes) within their term.
//!
//! # Pages
//!
//! A term's targets are read a page at a time through a [`Window`]
//! (limit, offset, [`Cursor`], direction). The cursor returned with a page
//! continues it; it converts to a URL-safe string to hand to a client, and
//! a cursor that does not belong to the term it is used with is
//! [`Error::InvalidCursor`], which a web handler answers as a bad request.
//!
//! # Async code
//!
//! vbolt is synchronous: its calls take microseconds and never wait on a
//! network. From async code, run reads directly (or in `spawn_blocking` if
//! they are long) and run each write transaction whole inside
//! `spawn_blocking` with [`Db::update`]. A [`WriteTx`] cannot be held across
//! an `.await` in a spawned task (it is not `Send`), and on a
//! single-threaded runtime a second task asking for it gets
//! [`Error::WriteInProgress`] rather than a hang.
//!
//! To push changes to clients (a chat's new messages, a dashboard), a
//! [`Subscription`] from [`Db::subscribe`] wakes after each commit that
//! touched a bucket key or index term it watches; its
//! [`changed`](Subscription::changed) future runs on any executor (see
//! [`notify`]).
//!
//! # On an etcd cluster
//!
//! With the `etcd` feature, `Db::open_etcd` opens a database kept under a
//! prefix of an etcd cluster (the `etcd` crate feature needs `protoc` to
//! build). Everything above the engine is the same code: buckets, indexes,
//! windows and cursors, counts, sequences, iterators, processes, backup,
//! restore ([`restore_into`] an empty prefix, in batches: not atomic) and
//! check. What differs:
//!
//! - **Many writers.** Processes on any number of machines open the same
//!   database. A write transaction reads a snapshot and commits only if no
//!   other commit happened since it began; otherwise it fails with
//!   [`Error::Conflict`] and nothing is written. [`Db::update`] runs the
//!   closure again on a conflict, so concurrent updates are never lost and
//!   never torn: write through `update`, and keep effects outside the
//!   database (e-mails, channel sends) out of its closure.
//! - **Round trips.** Each read is a request to the cluster (about 0.1 to
//!   1 ms); a window is one range read, and a commit is one request.
//!   Setting the terms of many targets in one transaction (a bulk load)
//!   reads each target's current terms and each term's count first:
//!   [`prefetch_targets`] and [`prefetch_terms`] read them all in one
//!   request each.
//! - **Failures are errors.** A snapshot the cluster has compacted away is
//!   [`Error::SnapshotExpired`]; a transaction past the cluster's size
//!   limits is [`Error::LimitExceeded`]; a commit whose connection broke is
//!   settled before the call returns (landed: `Ok`; did not land and never
//!   will: `Conflict`), and only when that cannot be found out is it
//!   [`Error::CommitUnknown`] (see [what a write's outcome
//!   means](#what-a-writes-outcome-means)). While the cluster elects a new
//!   leader, calls wait (reads retry on the other members for up to 15 s).
//! - **Members that fail.** Each request has a deadline (1 s by default,
//!   `EtcdOptions::request_timeout`); a member that misses it, or fails
//!   the connection, is left for the next one, so a paused or cut-off
//!   member stalls the writers for about one deadline, not for its whole
//!   outage (RELIABILITY.md has the measured stalls).
//! - **Limits.** A commit is one request, within the cluster's
//!   `--max-txn-ops` and `--max-request-bytes`; tell the store when the
//!   cluster's differ from etcd's defaults (`Db::open_etcd_with`).
//! - **Not here:** compaction, engine checks and file-space figures are
//!   the cluster operator's (etcd's own tools): [`compact`],
//!   [`Db::check_engine`] and [`Db::space`] return [`Error::Unsupported`].
//!
//! # Recipes
//!
//! The [`cookbook`] shows whole patterns: a page of a list for a web API,
//! unique names, newest-first and prefix walks, run-once migrations,
//! backups of the live database, and async code.
//!
//! # Layers
//!
//! - [`vpack`]: packing values (its own crate).
//! - `engine`: the only module that touches a storage engine, behind a
//!   small ordered-bytes contract: redb (a file, the default) or etcd (a
//!   cluster, feature `etcd`).
//! - [`Db`], [`ReadTx`], [`WriteTx`]: opening and transactions.
//! - [`Bucket`] and its functions; bucket iteration: iterators
//!   ([`entries`], [`entries_in`], [`entries_with_prefix`]) and callbacks
//!   ([`iterate_all`], [`scan_list`], [`tx_write_batches`], ...).
//! - [`Index`] and its functions; [`Window`] and [`Cursor`] for pages;
//!   iterators over a term's targets, a target's terms and all terms
//!   ([`term_targets`], [`target_terms`], [`terms`]).
//! - [`Info`]: the list of declarations, for setup and introspection.
//! - [`notify`]: commit notifications, [`Topic`] and [`Subscription`].
//! - Operations: run-once processes, [`backup`] and [`restore`], [`check`],
//!   [`rebuild_index`], [`compact`], inspection ([`tables`],
//!   [`raw_entries`], [`debug_entries`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The README's code is compiled and run as a doctest, so it cannot drift.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod bucket;
pub mod cookbook;
mod db;
mod engine;
mod error;
mod files;
mod gate;
mod group;
mod hub;
mod index;
mod iter;
mod key;
mod links;
pub mod notify;
mod ops;
mod options;
mod range;
mod scan;
mod schema;
mod term_diff;
mod tx;
mod window;

pub use bucket::{
    Bucket, delete, get, has_key, next_int_id, raise_sequence, read, read_append, read_slice,
    read_slice_to_map, read_to_map, write,
};
pub use db::{CommitStats, Db, Durability, Space};
pub use engine::TreeShape;
pub use error::Error;
pub use index::{
    Index, delete_target_terms, first_target, iterate_all_terms, iterate_target, iterate_term,
    prefetch_targets, prefetch_terms, read_term_count, read_term_targets, set_target_single_term,
    set_target_single_term_ext, set_target_terms, set_target_terms_plain, set_target_terms_uniform,
};
pub use iter::{
    Entries, TargetTerms, TermTargets, Terms, entries, entries_in, entries_with_prefix,
    target_terms, term_targets, terms,
};
pub use key::AsKey;
pub use notify::{Changes, Closed, Subscription, Topic};
pub use ops::{
    BackupOptions, BackupSummary, CheckReport, Compacted, DumpItem, Problem, Progress, Role,
    TableInfo, apply_db_process, apply_db_process_batched, backup, backup_to_path, check,
    check_with_progress, compact, compact_into, debug_entries, index_entry_parts, load,
    process_applied, raw_entries, rebuild_index, restore, restore_into, tables,
};
#[cfg(feature = "etcd")]
pub use options::EtcdOptions;
pub use options::Options;
pub use scan::{
    iterate_all, iterate_all_reverse, iterate_bucket_from, iterate_in_batches, scan_list,
    tx_write_batches,
};
pub use schema::{Declared, Info, Kind, ensure_buckets, init_buckets, recorded_shapes};
pub use tx::{ReadTx, Readable, WriteTx};
pub use window::{Cursor, CursorParseError, Direction, Window};

/// The storage engine's key type for vbolt's tables, for code that opens a
/// vbolt file with the engine directly (tests that damage a file on
/// purpose). Not part of the stable API: it names the engine.
#[doc(hidden)]
pub use engine::Key as EngineKey;
