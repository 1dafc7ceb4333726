//! Which bucket an index points into, and the commit-time check that it
//! still does.
//!
//! An index declared with [`Index::targets_in`](crate::Index::targets_in)
//! promises that each of its targets is a key of that bucket (and with
//! [`Index::terms_in`](crate::Index::terms_in), each of its terms). vbolt
//! never writes an index behind the program's back, so the promise breaks
//! when the program forgets a call: it deletes a record and not its index
//! entries, and a page of results then holds an id that reads as nothing.
//!
//! Two things hold the program to it:
//! - [`init_buckets`](crate::init_buckets) records each link in the file
//!   (table `vbolt:index-links`, key `targets:INDEX` or `terms:INDEX`,
//!   value the bucket's name), so [`check`](crate::check) and the `vbolt`
//!   tool verify every entry without the program's types;
//! - with [`Db::strict_indexes`](crate::Db::strict_indexes) on (for tests
//!   and development), each transaction remembers the index entries it
//!   wrote and the bucket keys it deleted, and before it commits checks
//!   those against the links that [`ensure_buckets`](crate::ensure_buckets)
//!   registered in this process. A transaction that leaves an entry
//!   pointing at nothing fails with [`Error::Dangling`], naming the index,
//!   the bucket and the key, and commits nothing.
//!
//! The strict check looks only at what the transaction touched, so its
//! cost follows the transaction's size, not the database's; off, it costs
//! one flag test per transaction.

use std::ops::Bound;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::engine::{KvRead, TableId, TableKind, WriteTxn};
use crate::error::Error;

/// Where a link's recorded form lives in the file.
pub(crate) static LINKS: TableId = TableId::new(TableKind::Meta, "index-links");

/// Which part of an index's entries a link is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Targets,
    Terms,
}

impl Part {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Part::Targets => "target",
            Part::Terms => "term",
        }
    }

    fn record_prefix(self) -> &'static str {
        match self {
            Part::Targets => "targets:",
            Part::Terms => "terms:",
        }
    }
}

/// One declared link: the index's three tables, the part, the bucket.
/// (`pub` for the sealed declaration trait; the module is private.)
#[derive(Clone, Copy)]
pub struct Link {
    pub(crate) index: &'static [TableId; 3],
    pub(crate) part: Part,
    pub(crate) bucket: &'static TableId,
}

impl Link {
    /// The key under which the link is recorded in [`LINKS`].
    pub(crate) fn record_key(&self) -> String {
        format!("{}{}", self.part.record_prefix(), self.index[0].name())
    }
}

/// The links this process's declarations named, and whether commits check
/// them. One per [`Db`](crate::Db).
#[derive(Default)]
pub(crate) struct Links {
    strict: AtomicBool,
    links: RwLock<Vec<Link>>,
}

impl Links {
    pub(crate) fn set_strict(&self, on: bool) {
        self.strict.store(on, Ordering::Relaxed);
    }

    pub(crate) fn is_strict(&self) -> bool {
        self.strict.load(Ordering::Relaxed)
    }

    /// Adds `link` unless it is known already.
    pub(crate) fn register(&self, link: Link) {
        let mut links = self.links.write().unwrap_or_else(|p| p.into_inner());
        let same = |l: &Link| l.part == link.part && l.index[0].slot() == link.index[0].slot();
        if let Some(old) = links.iter_mut().find(|l| same(l)) {
            *old = link;
        } else {
            links.push(link);
        }
    }

    fn snapshot(&self) -> Vec<Link> {
        self.links.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What a strict transaction wrote that a link may cover.
#[derive(Default)]
pub(crate) struct Touched {
    /// (term table slot, term entry key) of each index entry written.
    entries: Vec<(usize, Box<[u8]>)>,
    /// (bucket table slot, key) of each bucket key deleted.
    deleted: Vec<(usize, Box<[u8]>)>,
}

impl Touched {
    /// Notes a raw put, if it is one a link may cover.
    pub(crate) fn put(&mut self, table: &TableId, key: &[u8]) {
        if table.kind() == TableKind::IndexTerms {
            self.entries.push((table.slot(), key.into()));
        }
    }

    /// Notes a raw delete, if it is one a link may cover.
    pub(crate) fn delete(&mut self, table: &TableId, key: &[u8]) {
        if table.kind() == TableKind::Bucket {
            self.deleted.push((table.slot(), key.into()));
        }
    }

    /// Checks what was touched against `links`, in `kv` (the transaction's
    /// own view, before it commits).
    pub(crate) fn verify(&self, links: &Links, kv: &WriteTxn) -> Result<(), Error> {
        if self.entries.is_empty() && self.deleted.is_empty() {
            return Ok(());
        }
        let links = links.snapshot();
        for (slot, entry) in &self.entries {
            for link in links.iter().filter(|l| l.index[0].slot() == *slot) {
                verify_entry(kv, link, entry)?;
            }
        }
        for (slot, key) in &self.deleted {
            for link in links.iter().filter(|l| l.bucket.slot() == *slot) {
                verify_deleted(kv, link, key)?;
            }
        }
        Ok(())
    }
}

fn dangling(link: &Link, key: &[u8]) -> Error {
    Error::Dangling {
        index: link.index[0].name(),
        part: link.part.word(),
        bucket: link.bucket.name(),
        key: key.to_vec(),
    }
}

/// An index entry the transaction wrote: if it is still there, its target
/// (or term) must be a key of the linked bucket.
fn verify_entry(kv: &WriteTxn, link: &Link, entry: &[u8]) -> Result<(), Error> {
    let parts = kv.get(&link.index[0], entry, |v| {
        crate::index::split_term_entry(entry, v).map(|[term, _, target]| match link.part {
            Part::Targets => target.to_vec(),
            Part::Terms => term.to_vec(),
        })
    })?;
    let Some(Some(key)) = parts else {
        return Ok(()); // removed again later in the transaction
    };
    match kv.get(link.bucket, &key, |_| ())? {
        Some(()) => Ok(()),
        None => Err(dangling(link, &key)),
    }
}

/// A bucket key the transaction deleted: if it is still gone, the linked
/// index must hold no entry for it.
fn verify_deleted(kv: &WriteTxn, link: &Link, key: &[u8]) -> Result<(), Error> {
    if kv.get(link.bucket, key, |_| ())?.is_some() {
        return Ok(()); // written again later in the transaction
    }
    let [terms, targets, counts] = link.index;
    match link.part {
        // A term with entries has a count.
        Part::Terms => match kv.get(counts, key, |_| ())? {
            Some(()) => Err(dangling(link, key)),
            None => Ok(()),
        },
        // Target entries are keyed `target term` (value: the priority); a
        // key that merely starts with `key` may belong to a longer target,
        // so each is confirmed by its term entry, `term priority target`.
        Part::Targets => {
            let mut found = false;
            let mut probe = Vec::new();
            let mut failure = None;
            kv.scan(
                targets,
                Bound::Included(key),
                Bound::Unbounded,
                false,
                |k, prio| {
                    if !k.starts_with(key) {
                        return false;
                    }
                    probe.clear();
                    probe.extend_from_slice(&k[key.len()..]);
                    probe.extend_from_slice(prio);
                    probe.extend_from_slice(key);
                    match kv.get(terms, &probe, |_| ()) {
                        Ok(Some(())) => found = true,
                        Ok(None) => {}
                        Err(e) => failure = Some(e),
                    }
                    !found && failure.is_none()
                },
            )?;
            match (failure, found) {
                (Some(e), _) => Err(e),
                (None, true) => Err(dangling(link, key)),
                (None, false) => Ok(()),
            }
        }
    }
}
