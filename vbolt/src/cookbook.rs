//! Recipes: the patterns an application needs, each a complete program
//! that compiles and runs (they are tests).
//!
//! - [A page of a list, for a web API](#a-page-of-a-list-for-a-web-api)
//! - [A unique name](#a-unique-name)
//! - [Newest first, and everything under a prefix](#newest-first-and-everything-under-a-prefix)
//! - [A migration that runs once](#a-migration-that-runs-once)
//! - [A backup of the live database](#a-backup-of-the-live-database)
//! - [From async code](#from-async-code)
//!
//! # A page of a list, for a web API
//!
//! A client asks for `?limit=20&cursor=...`. The cursor it sends back is the
//! string vbolt gave it; one that does not belong to this list (another
//! thread's, a tampered one) is the client's mistake, answered as such.
//!
//! ```
//! use vbolt::*;
//!
//! // thread id (term) -> message ids (targets), ordered by time (priority)
//! static THREAD_MESSAGES: Index<u64, u64, i64> =
//!     Index::with_priority("thread_messages", vpack::key::fuint(), vpack::key::fuint(), vpack::key::fint_ord());
//!
//! /// What the handler answers: a page, or a status with a reason.
//! enum Reply {
//!     Page { ids: Vec<u64>, next: Option<String> },
//!     BadRequest(String),
//!     ServerError(String),
//! }
//!
//! fn messages_page(db: &Db, thread: u64, limit: usize, cursor: Option<&str>) -> Reply {
//!     let cursor = match cursor.map(str::parse::<Cursor>).transpose() {
//!         Ok(cursor) => cursor,
//!         Err(e) => return Reply::BadRequest(e.to_string()),
//!     };
//!     // Newest first; a limit from the client is capped, and 0 reads nothing.
//!     let window = Window::new().limit(limit.min(100)).reverse().cursor(cursor);
//!     let page = db.view(|tx| {
//!         let mut ids = Vec::new();
//!         let next = read_term_targets(tx, &THREAD_MESSAGES, thread, &mut ids, &window)?;
//!         Ok::<_, Error>((ids, next))
//!     });
//!     match page {
//!         Ok((ids, next)) => Reply::Page { ids, next: next.map(|c| c.to_string()) },
//!         Err(e) if e.is_invalid_input() => Reply::BadRequest(e.to_string()),
//!         Err(e) => Reply::ServerError(e.to_string()),
//!     }
//! }
//!
//! let db = Db::in_memory()?;
//! db.update(|tx| {
//!     for id in 1..=5u64 {
//!         set_target_single_term_ext(tx, &THREAD_MESSAGES, id, 7, id as i64);
//!     }
//!     set_target_single_term_ext(tx, &THREAD_MESSAGES, 99, 8, 0);
//!     Ok::<_, Error>(())
//! })?;
//!
//! let Reply::Page { ids, next } = messages_page(&db, 7, 2, None) else { panic!() };
//! assert_eq!(ids, [5, 4]);
//! let Reply::Page { ids, .. } = messages_page(&db, 7, 2, next.as_deref()) else { panic!() };
//! assert_eq!(ids, [3, 2]);
//! // Thread 7's cursor sent for thread 8: a bad request, not an empty page.
//! assert!(matches!(messages_page(&db, 8, 2, next.as_deref()), Reply::BadRequest(_)));
//! assert!(matches!(messages_page(&db, 7, 2, Some("%%")), Reply::BadRequest(_)));
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # A unique name
//!
//! A second bucket maps the name to the id; checking it and claiming it in
//! the same write transaction makes the check and the claim one step.
//!
//! ```
//! use vbolt::*;
//!
//! static USERS: Bucket<u64, String> = Bucket::new("users", vpack::key::fuint(), vpack::string);
//! static BY_HANDLE: Bucket<String, u64> = Bucket::new("by_handle", vpack::key::string_z(), vpack::fuint);
//!
//! #[derive(Debug)]
//! enum SignUpError { Taken, Db(Error) }
//! impl From<Error> for SignUpError {
//!     fn from(e: Error) -> Self { SignUpError::Db(e) }
//! }
//!
//! fn sign_up(db: &Db, handle: &str) -> Result<u64, SignUpError> {
//!     db.update(|tx| {
//!         if has_key(tx, &BY_HANDLE, handle)? {
//!             return Err(SignUpError::Taken); // rolled back: nothing written
//!         }
//!         let id = next_int_id(tx, &USERS);
//!         write(tx, &USERS, id, &mut handle.to_string());
//!         write(tx, &BY_HANDLE, handle, &mut { id });
//!         Ok(id)
//!     })
//! }
//!
//! let db = Db::in_memory()?;
//! assert_eq!(sign_up(&db, "ann").unwrap(), 1);
//! assert!(matches!(sign_up(&db, "ann"), Err(SignUpError::Taken)));
//! assert_eq!(sign_up(&db, "bo").unwrap(), 2);
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # Newest first, and everything under a prefix
//!
//! Keys sort by their packed bytes, so with an order-preserving key
//! encoding the last entries are the newest ids, and a composite key's
//! first part groups its entries.
//!
//! ```
//! use vbolt::*;
//!
//! static EVENTS: Bucket<u64, String> = Bucket::new("events", vpack::key::fuint(), vpack::string);
//!
//! // (user, day) -> visits: a pair's key sorts by user, then by day
//! static VISITS: Bucket<(u32, u32), u32> = Bucket::new("visits", vpack::key::ordered(), vpack::uint);
//!
//! let db = Db::in_memory()?;
//! db.update(|tx| {
//!     for i in 1..=50u64 {
//!         write(tx, &EVENTS, i, &mut format!("event {i}"));
//!     }
//!     for (user, day) in [(1, 10), (2, 10), (2, 11), (3, 12)] {
//!         write(tx, &VISITS, (user, day), &mut 1);
//!     }
//!     Ok::<_, Error>(())
//! })?;
//!
//! let tx = db.read_tx()?;
//! let newest: Vec<String> = entries(&tx, &EVENTS)
//!     .rev()
//!     .take(3)
//!     .map(|e| e.map(|(_, text)| text))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(newest, ["event 50", "event 49", "event 48"]);
//!
//! let days_of_2: Vec<u32> = entries_with_prefix(&tx, &VISITS, 2u32, vpack::key::fuint())
//!     .map(|e| e.map(|((_, day), _)| day))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(days_of_2, [10, 11]);
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # A migration that runs once
//!
//! A data change that must happen exactly once per database is recorded in
//! the database itself. When it fits one transaction, its record commits
//! with it; when it does not, it works in batches and must be idempotent.
//!
//! ```
//! use vbolt::*;
//!
//! static PRICES: Bucket<u64, u64> = Bucket::new("prices", vpack::key::fuint(), vpack::uint);
//!
//! let db = Db::in_memory()?;
//! apply_db_process(&db, "2026-11 seed prices", |tx| {
//!     for id in 1..=1000u64 {
//!         write(tx, &PRICES, id, &mut 100);
//!     }
//!     Ok::<_, Error>(())
//! })?;
//!
//! // Cents instead of euros, in batches of 256 entries per transaction.
//! // Idempotent: the new value is computed from the id, never from the old.
//! apply_db_process_batched(&db, "2026-12 prices in cents", |db| {
//!     tx_write_batches(db, &PRICES, 256, |tx, id, _| write(tx, &PRICES, id, &mut 10_000))?;
//!     Ok(())
//! })?;
//! assert!(process_applied(&db, "2026-12 prices in cents")?.is_some());
//! assert_eq!(db.view(|tx| get(tx, &PRICES, 500))?, Some(10_000));
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # A backup of the live database
//!
//! The running application holds its file, so tools cannot open it; the
//! application writes a consistent backup itself (readers and the writer
//! go on meanwhile), for example from an admin endpoint.
//!
//! ```
//! use vbolt::*;
//!
//! static NOTES: Bucket<u64, String> = Bucket::new("notes", vpack::key::fuint(), vpack::string);
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path().join("app.vbolt"))?;
//! db.update(|tx| { write(tx, &NOTES, 1, &mut "kept".to_string()); Ok::<_, Error>(()) })?;
//!
//! // The admin endpoint's work: a new file, complete or absent, with the
//! // database file's permissions.
//! let summary = backup_to_path(&db, &dir.path().join("nightly.backup"), &BackupOptions::all(), |_| {})?;
//! assert!(summary.entries >= 1);
//!
//! // Elsewhere (another machine, a tool): restore and inspect the copy.
//! let copy = dir.path().join("copy.vbolt");
//! restore(std::fs::File::open(dir.path().join("nightly.backup"))?, &copy, |_| {})?;
//! assert_eq!(Db::open(&copy)?.view(|tx| get(tx, &NOTES, 1))?.as_deref(), Some("kept"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # From async code
//!
//! vbolt's calls take microseconds and never wait on a network, so they are
//! synchronous. A short read can run in the task; each write transaction
//! runs whole on a blocking thread.
//!
//! ```
//! use std::sync::Arc;
//! use vbolt::*;
//!
//! static VIEWS: Bucket<String, u64> = Bucket::new("views", vpack::key::string_z(), vpack::uint);
//!
//! async fn count_view(db: Arc<Db>, page: String) -> Result<u64, Error> {
//!     tokio::task::spawn_blocking(move || {
//!         db.update(|tx| {
//!             let n = get(tx, &VIEWS, page.as_str())?.unwrap_or(0) + 1;
//!             write(tx, &VIEWS, page.as_str(), &mut { n });
//!             Ok(n)
//!         })
//!     })
//!     .await
//!     .expect("the blocking task panicked")
//! }
//!
//! let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
//! let db = Arc::new(Db::in_memory()?);
//! let n = rt.block_on(async {
//!     count_view(db.clone(), "/home".into()).await?;
//!     count_view(db.clone(), "/home".into()).await
//! })?;
//! assert_eq!(n, 2);
//! // A read in the task itself:
//! assert_eq!(db.view(|tx| get(tx, &VIEWS, "/home"))?, Some(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
