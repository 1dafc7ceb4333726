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
//!
//! #[derive(Default, Debug, PartialEq)]
//! struct Article { title: String, category_ids: Vec<u32> }
//!
//! fn pack_article(a: &mut Article, buf: &mut vpack::Buffer) {
//!     vpack::version(1, buf);
//!     vpack::string(&mut a.title, buf);
//!     vpack::vec(&mut a.category_ids, buf, vpack::fuint);
//! }
//!
//! static ARTICLES: Bucket<u64, Article> = Bucket::new("articles", vpack::fuint, pack_article);
//! static CATEGORY_ARTICLES: Index<u64, u32> = Index::new("category_articles", vpack::fuint, vpack::fuint);
//!
//! let db = Db::in_memory()?;
//!
//! // Writing: the article and its index entries commit together, or not at all.
//! let mut tx = db.write_tx()?;
//! let id = next_int_id(&mut tx, &ARTICLES);
//! let mut article = Article { title: "Hello".into(), category_ids: vec![3, 5] };
//! write(&mut tx, &ARTICLES, &id, &mut article);
//! set_target_terms_plain(&mut tx, &CATEGORY_ARTICLES, &id, &article.category_ids);
//! tx.commit()?;
//!
//! // Reading: find the category's articles through the index, then load them.
//! let tx = db.read_tx()?;
//! let mut ids = Vec::new();
//! read_term_targets(&tx, &CATEGORY_ARTICLES, &5, &mut ids, &Window::default());
//! let mut articles = Vec::new();
//! read_slice(&tx, &ARTICLES, &ids, &mut articles);
//! assert_eq!(articles, [article]);
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # Transactions
//!
//! [`Db::read_tx`] begins a snapshot; any number can run at once, from any
//! threads, while one [`WriteTx`] (from [`Db::write_tx`]) writes. A write
//! transaction commits only with [`WriteTx::commit`]; dropped without it, it
//! rolls back. Reading functions accept either kind (`&impl Readable`);
//! writing functions demand `&mut WriteTx`, so writing in a read transaction
//! is a compile error.
//!
//! # Errors
//!
//! Application code should not need an error check after every call, and it
//! should never be handed a half-done transaction. vbolt's model:
//!
//! - **Opening and beginning** return `Result` ([`Db::open`],
//!   [`Db::read_tx`], [`Db::write_tx`]).
//! - **Reads** return `bool` or a count: `false` means the value is absent,
//!   or its stored bytes do not unpack. Iteration skips entries that do not
//!   unpack. Engine failures met while reading are recorded in the
//!   transaction ([`ReadTx::error`]).
//! - **Writes** return nothing. The first failure (I/O, disk full, a key or
//!   value that cannot be packed, such as a `string_z` with a NUL) is
//!   recorded in the transaction; every later write in it is a no-op; and
//!   [`WriteTx::commit`] returns `Err` with that failure and commits
//!   nothing. One check, at the one place it matters.
//!
//! vbolt does not panic on bad data, I/O failure or a full disk.
//!
//! # Layers
//!
//! - [`vpack`]: packing values (its own crate).
//! - `engine`: the only module that touches the storage engine (redb),
//!   behind a small ordered-bytes interface.
//! - [`Db`], [`ReadTx`], [`WriteTx`]: opening and transactions.
//! - [`Bucket`] and its functions; bucket iteration ([`iterate_all`],
//!   [`scan_list`], [`tx_write_batches`], ...).
//! - [`Index`] and its functions; [`Window`] and [`Cursor`] for pages.
//! - [`Info`]: the list of declarations, for setup and introspection.
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
mod db;
mod engine;
mod error;
mod index;
mod ops;
mod scan;
mod schema;
mod tx;
mod window;

pub use bucket::{
    Bucket, delete, has_key, next_int_id, raw_set_sequence_correctly, read, read_append,
    read_slice, read_slice_to_map, read_to_map, write,
};
pub use db::{Db, Durability, Options, Space};
pub use engine::TreeShape;
pub use error::Error;
pub use index::{
    Index, delete_target_terms, iterate_all_terms, iterate_target, iterate_term, read_term_count,
    read_term_target_single, read_term_targets, set_target_single_term, set_target_single_term_ext,
    set_target_terms, set_target_terms_plain, set_target_terms_uniform,
};
pub use ops::{
    BackupOptions, BackupSummary, CheckReport, Compacted, Problem, Progress, Role, TableInfo,
    apply_db_process, apply_db_process_batched, backup, check, compact, compact_into,
    debug_entries, process_applied, raw_entries, rebuild_index, restore, tables,
};
pub use scan::{
    iterate_all, iterate_all_reverse, iterate_bucket_from, iterate_in_batches, scan_list,
    tx_write_batches,
};
pub use schema::{Declared, Info, Kind, ensure_buckets, init_buckets};
pub use tx::{ReadTx, Readable, WriteTx};
pub use window::{Cursor, CursorParseError, Direction, Window};

/// The storage engine's key type for vbolt's tables, for code that opens a
/// vbolt file with the engine directly (tests that damage a file on
/// purpose). Not part of the stable API: it names the engine.
#[doc(hidden)]
pub use engine::Key as EngineKey;
