//! Indexes: persisted many-to-many maps `term <-> target`, with a priority
//! per pair, an exact count per term, and windowed reads.
//!
//! A *target* is usually an object id (an article); a *term* is what you
//! look targets up by (a category). Each (term, target) pair has a
//! *priority* that orders the term's targets (a publication time). You set
//! the complete term set of a target; vbolt works out what changed.
//!
//! ```
//! use vbolt::*;
//!
//! // category id (term) -> article ids (targets), ordered by publication
//! // time (the priority, an i64 of seconds).
//! static CATEGORY_ARTICLES: Index<u32, u64, i64> =
//!     Index::with_priority("category_articles", vpack::key::fuint(), vpack::key::fuint(), vpack::key::fint_ord());
//!
//! let db = Db::in_memory()?;
//! let mut tx = db.write_tx()?;
//! set_target_terms_uniform(&mut tx, &CATEGORY_ARTICLES, 100, [1, 2], 1_700_000_000);
//! set_target_terms_uniform(&mut tx, &CATEGORY_ARTICLES, 101, [2], 1_700_000_060);
//! tx.commit()?;
//!
//! let tx = db.read_tx()?;
//! let mut newest = Vec::new();
//! let next = read_term_targets(&tx, &CATEGORY_ARTICLES, 2, &mut newest, &Window::new().limit(10).reverse())?;
//! assert_eq!((newest, next), (vec![101, 100], None));
//! assert_eq!(read_term_count(&tx, &CATEGORY_ARTICLES, 2)?, 2);
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # One order: term, target, priority
//!
//! The type parameters (`Index<Term, Target, Priority>`), the constructors
//! ([`Index::new`], [`Index::with_priority`]) and the callbacks name the
//! term first, then the target, then the priority. Where a term and a
//! target have different types, swapping them does not compile. Where they
//! would share a type (both `u64` ids), give each its own newtype so they
//! cannot be swapped either:
//!
//! ```
//! use vbolt::*;
//! use vpack::{Pack, PackKey, key};
//!
//! // As keys, each is its id's key encoding (fixed-width, so that ids
//! // sort); `Pack` gives the zero key and a compact encoding for values.
//! #[derive(PackKey, Pack, Clone, Copy, PartialEq, Debug)]
//! struct UserId(u64);
//! #[derive(PackKey, Pack, Clone, Copy, PartialEq, Debug)]
//! struct GroupId(u64);
//!
//! // group (term) -> members (targets)
//! static GROUP_MEMBERS: Index<GroupId, UserId> = Index::new("group_members", key::ordered(), key::ordered());
//!
//! let db = Db::in_memory()?;
//! db.update(|tx| {
//!     set_target_terms_plain(tx, &GROUP_MEMBERS, UserId(7), [GroupId(1)]);
//!     Ok::<_, Error>(())
//! })?;
//! let members = db.view(|tx| {
//!     let mut members = Vec::new();
//!     read_term_targets(tx, &GROUP_MEMBERS, GroupId(1), &mut members, &Window::new())?;
//!     Ok::<_, Error>(members)
//! })?;
//! assert_eq!(members, [UserId(7)]);
//! // read_term_targets(tx, &GROUP_MEMBERS, UserId(7), ..) does not compile.
//! # Ok::<(), vbolt::Error>(())
//! ```
//!
//! # Layout
//!
//! An index is three engine tables:
//!
//! | table | key | value |
//! |---|---|---|
//! | `index:NAME` (term entries) | term priority target | lengths of the term and the priority (two varints) |
//! | `index-targets:NAME` (target entries) | target term | priority |
//! | `index-counts:NAME` | term | number of targets, u64 big-endian |
//!
//! Term entries sort by (term, priority, target), so a term's targets are one
//! contiguous, ordered range. Target entries give a target's terms (and let
//! an update find what to remove). Every vpack encoding is self-delimiting,
//! so one term's encoding is never a prefix of another's and a range never
//! leaks into the next term. Counts live in a table of their own, one entry
//! per term, so reading a count descends a tree of a few pages, not the
//! index's whole depth.
//!
//! The priority's pack function decides the order: the default `u16` packed
//! with `fuint` sorts ascending; use `fint_ord` or `unix_time_ord` for
//! signed numbers and times.
//!
//! # Where things are
//!
//! - this file: the [`Index`] declaration;
//! - `write.rs`: setting a target's terms, which keeps the three tables
//!   and the counts in step, and prefetching what such updates read;
//! - `read.rs`: reading a term's targets through a window, a target's
//!   terms, counts;
//! - `layout.rs`: the byte layout of entries and cursors, shared by the
//!   reads here, the iterators and the checker.

use vpack::{KeyFn, PackFn, PackKey};

use crate::bucket::Bucket;
use crate::engine::{TableId, TableKind};
use crate::error::Error;

mod layout;
mod read;
mod write;

pub(crate) use layout::{count_of, cursor_position, cursor_tag, split_term_entry};
pub use read::{
    first_target, iterate_all_terms, iterate_target, iterate_term, read_term_count,
    read_term_targets,
};
pub use write::{
    delete_target_terms, prefetch_targets, prefetch_terms, set_target_single_term,
    set_target_single_term_ext, set_target_terms, set_target_terms_plain, set_target_terms_uniform,
};

/// Positions of an index's tables in [`Index::tables`].
const TERMS: usize = 0;
const TARGETS: usize = 1;
const COUNTS: usize = 2;

/// A declared index from terms `T` to targets `K`, each pair ordered by a
/// priority `P` (a `u16` by default, lower first).
///
/// ```
/// // keyword (term) -> page number (target)
/// static KEYWORDS: vbolt::Index<String, u32> =
///     vbolt::Index::new("keywords", vpack::key::string_z(), vpack::key::fuint());
/// ```
pub struct Index<T, K, P = u16> {
    /// Term entries, target entries and counts, in that order.
    pub(crate) tables: [TableId; 3],
    pub(crate) term: PackFn<T>,
    pub(crate) target: PackFn<K>,
    pub(crate) priority: PackFn<P>,
    /// The buckets its targets and its terms are keys of, when declared
    /// ([`Index::targets_in`], [`Index::terms_in`]).
    pub(crate) targets_in: Option<&'static TableId>,
    pub(crate) terms_in: Option<&'static TableId>,
    /// What the term's, target's and priority's bytes hold, for the
    /// file's catalog.
    pub(crate) shapes: [fn() -> vpack::Shape; 3],
}

impl<T, K> Index<T, K, u16> {
    /// Declares an index with the default priority: a `u16` packed
    /// fixed-width, lower values first.
    pub const fn new(name: &'static str, term: KeyFn<T>, target: KeyFn<K>) -> Index<T, K, u16> {
        Index::with_priority(name, term, target, vpack::key::fuint())
    }
}

impl<T, K, P> Index<T, K, P> {
    /// Declares an index whose priorities are `P` packed with `priority`.
    /// Its bytes decide the order of a term's targets, so, like the term
    /// and the target, it is a [`vpack::KeyFn`]: an encoding whose bytes
    /// sort like `P`'s `Ord` (`vpack::key::ordered()`,
    /// `vpack::key::unix_time_milli_ord()`, ...). A value encoding does not
    /// compile here:
    ///
    /// ```compile_fail
    /// use std::time::SystemTime;
    /// // unix_time_milli is a zig-zag varint: newest-first would come out
    /// // shuffled.
    /// static POSTS_BY_TAG: vbolt::Index<String, u64, SystemTime> = vbolt::Index::with_priority(
    ///     "posts_by_tag", vpack::key::ordered(), vpack::key::ordered(), vpack::unix_time_milli,
    /// );
    /// ```
    ///
    /// ```
    /// use std::time::SystemTime;
    /// static POSTS_BY_TAG: vbolt::Index<String, u64, SystemTime> = vbolt::Index::with_priority(
    ///     "posts_by_tag", vpack::key::ordered(), vpack::key::ordered(), vpack::key::unix_time_milli_ord(),
    /// );
    /// ```
    #[doc(alias = "IndexExt")]
    pub const fn with_priority(
        name: &'static str,
        term: KeyFn<T>,
        target: KeyFn<K>,
        priority: KeyFn<P>,
    ) -> Index<T, K, P> {
        Index {
            tables: [
                TableId::new(TableKind::IndexTerms, name),
                TableId::new(TableKind::IndexTargets, name),
                TableId::new(TableKind::IndexCounts, name),
            ],
            term: term.pack(),
            target: target.pack(),
            priority: priority.pack(),
            targets_in: None,
            terms_in: None,
            shapes: [term.shape_fn(), target.shape_fn(), priority.shape_fn()],
        }
    }

    /// Declares an index whose term, target and priority each use their
    /// type's own key encoding ([`vpack::PackKey`]): `Index::of("name")`
    /// is `Index::with_priority("name", key::ordered(), key::ordered(),
    /// key::ordered())`.
    ///
    /// ```
    /// // tag (term) -> bookmark id (target), newest first by a u64 time.
    /// static BY_TAG: vbolt::Index<String, u64, u64> = vbolt::Index::of("bookmarks_by_tag");
    /// ```
    pub const fn of(name: &'static str) -> Index<T, K, P>
    where
        T: PackKey,
        K: PackKey,
        P: PackKey,
    {
        Index::with_priority(name, T::KEY, K::KEY, P::KEY)
    }

    /// Declares that every target of this index is a key of `bucket`, so
    /// an entry whose target is not there is a mistake (usually a record
    /// deleted without its index entries). [`init_buckets`](crate::init_buckets)
    /// records the link in the file, where [`check`](crate::check) and
    /// `vbolt check` verify every entry against it, and
    /// [`Db::strict_indexes`](crate::Db::strict_indexes) makes each commit
    /// verify what it touched. Nothing is written for you: indexing stays
    /// explicit.
    ///
    /// The target's key encoding must be the bucket key's (the bytes are
    /// compared), which the shared type `K` makes the natural choice.
    ///
    /// ```
    /// use vbolt::*;
    /// static BOOKMARKS: Bucket<u64, String> = Bucket::new("bookmarks", vpack::key::ordered(), vpack::string);
    /// static BY_TAG: Index<String, u64> =
    ///     Index::new("bookmarks_by_tag", vpack::key::ordered(), vpack::key::ordered()).targets_in(&BOOKMARKS);
    /// static INFO: Info = Info::new(&[&BOOKMARKS, &BY_TAG]);
    ///
    /// let db = Db::in_memory()?;
    /// ensure_buckets(&db, &INFO)?;
    /// db.strict_indexes(true);
    /// db.update(|tx| {
    ///     write(tx, &BOOKMARKS, 1, &mut "https://example.com".to_string());
    ///     set_target_terms_plain(tx, &BY_TAG, 1, ["rust"]);
    ///     Ok::<_, Error>(())
    /// })?;
    /// // Deleting the record but not its index entries does not commit.
    /// let forgot = db.update(|tx| {
    ///     delete(tx, &BOOKMARKS, 1);
    ///     Ok::<_, Error>(())
    /// });
    /// assert!(matches!(forgot, Err(Error::Dangling { index: "bookmarks_by_tag", .. })));
    /// db.update(|tx| {
    ///     delete(tx, &BOOKMARKS, 1);
    ///     delete_target_terms(tx, &BY_TAG, 1);
    ///     Ok::<_, Error>(())
    /// })?;
    /// assert!(check(&db)?.is_ok());
    /// # Ok::<(), vbolt::Error>(())
    /// ```
    pub const fn targets_in<V>(mut self, bucket: &'static Bucket<K, V>) -> Index<T, K, P> {
        self.targets_in = Some(&bucket.table);
        self
    }

    /// Declares that every term of this index is a key of `bucket` (an
    /// index from a record to others, such as a user to their groups): as
    /// [`Index::targets_in`], for the terms.
    pub const fn terms_in<V>(mut self, bucket: &'static Bucket<T, V>) -> Index<T, K, P> {
        self.terms_in = Some(&bucket.table);
        self
    }

    /// The index's name.
    pub fn name(&self) -> &'static str {
        self.tables[TERMS].name()
    }

    pub(crate) fn terms(&self) -> &TableId {
        &self.tables[TERMS]
    }

    pub(crate) fn targets(&self) -> &TableId {
        &self.tables[TARGETS]
    }

    pub(crate) fn counts(&self) -> &TableId {
        &self.tables[COUNTS]
    }

    /// [`Error::Decode`] for one part of an entry stored under `key`.
    pub(crate) fn bad(&self, part: &'static str, key: &[u8], source: vpack::Error) -> Error {
        Error::Decode {
            table: self.name(),
            part,
            key: key.to_vec(),
            source,
        }
    }

    /// A count that is not eight bytes.
    pub(crate) fn bad_count(&self, term: &[u8]) -> Error {
        Error::Corrupted(format!(
            "index {}: the count of term {} is not an 8-byte number",
            self.name(),
            crate::error::Hex(term)
        ))
    }

    /// A term entry whose recorded lengths do not fit its key.
    pub(crate) fn bad_entry(&self, key: &[u8]) -> Error {
        Error::Corrupted(format!(
            "index {}: the term entry under key {} records lengths that do not fit it",
            self.name(),
            crate::error::Hex(key)
        ))
    }
}
