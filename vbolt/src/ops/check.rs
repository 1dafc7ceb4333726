//! The integrity check: everything the engine stores must be readable, and
//! every index must agree with itself.
//!
//! For each index (tables `index:N`, `index-targets:N`, `index-counts:N`):
//! every term entry splits into (term, priority, target) by the lengths it
//! stores; its target entry exists and holds the same priority; there are
//! as many target entries as term entries (with the previous rule, a
//! one-to-one match); and each term's count equals its number of term
//! entries, with no count left for a term that has none. Where the file
//! records that an index points into a bucket
//! ([`Index::targets_in`](crate::Index::targets_in),
//! [`Index::terms_in`](crate::Index::terms_in)), each target (or term) must
//! be a key of that bucket. The check needs no application types, so tools
//! can run it on any vbolt file.

use std::ops::Bound;

use super::{Progress, Reporter};
use crate::db::Db;
use crate::engine::{RawTable, ReadTxn};
use crate::error::Error;
use crate::links::LINKS;
use crate::ops::inspect::Role;
use crate::schema::{CATALOG, DECLARED, recorded_shapes};
use crate::tx::ReadTx;
use vpack::Shape;

/// Problems kept in a report (the rest are only counted).
const MAX_KEPT: usize = 100;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The engine table it was found in.
    pub table: String,
    /// What is wrong, with the key involved (as hex) where there is one.
    pub what: String,
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Tables read.
    pub tables: u64,
    /// Entries read.
    pub entries: u64,
    /// Indexes checked.
    pub indexes: u64,
    /// The first problems found (at most 100).
    pub problems: Vec<Problem>,
    /// How many problems were found in all.
    pub problem_count: u64,
    /// Bucket and index tables in the file that the program's declarations
    /// do not list, as last recorded by
    /// [`ensure_buckets`](crate::ensure_buckets): a forgotten declaration,
    /// or data left by an older version. Not counted as problems. Empty when
    /// no declarations were ever recorded (see `declarations_recorded`).
    pub undeclared: Vec<String>,
    /// True when the file holds a list of declarations to compare with.
    pub declarations_recorded: bool,
}

impl CheckReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problem_count == 0
    }

    fn report(&mut self, table: &str, what: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_KEPT {
            self.problems.push(Problem {
                table: table.to_string(),
                what,
            });
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads every entry of every table in one snapshot and checks every
/// index; returns what it found. `Err` only when the check itself could not
/// run (the engine failed to read: the report would be incomplete).
///
/// This does not modify the file. The engine's own page-checksum check,
/// which may repair a damaged file, is [`Db::check_engine`].
///
/// ```
/// use vbolt::*;
/// static TAGS: Index<u8, u32> = Index::new("tags", vpack::key::byte(), vpack::key::fuint());
/// let db = Db::in_memory()?;
/// db.update(|tx| { set_target_single_term(tx, &TAGS, 1, 7); Ok::<_, Error>(()) })?;
/// let report = check(&db)?;
/// assert!(report.is_ok());
/// assert_eq!(report.indexes, 1);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn check(db: &Db) -> Result<CheckReport, Error> {
    check_with_progress(db, |_| {})
}

/// [`check`], calling `progress` as entries are read (for a progress bar:
/// `done` of `total` entries).
///
/// ```
/// use vbolt::*;
/// let db = Db::in_memory()?;
/// let mut last = None;
/// check_with_progress(&db, |p| last = Some(p))?;
/// assert!(last.is_some());
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn check_with_progress(db: &Db, progress: impl FnMut(Progress)) -> Result<CheckReport, Error> {
    let tx = db.read_tx()?;
    let snap = tx.raw();
    let names = snap.table_names()?;
    let mut total = 0u64;
    for name in &names {
        total += snap.table_len(name)?.unwrap_or(0);
    }
    let mut reporter = Reporter::new(total, progress);
    let mut report = CheckReport::default();
    for name in &names {
        let Some(table) = snap.open_named(name)? else {
            continue;
        };
        report.tables += 1;
        let mut n = 0u64;
        if let Some(index) = name.strip_prefix("index:") {
            report.indexes += 1;
            let buckets = linked_buckets(&tx, index)?;
            n = check_index(
                snap,
                name,
                index,
                &table,
                &buckets,
                &mut report,
                &mut reporter,
            )?;
        } else {
            // vbolt's own tables hold 8-byte numbers (sequences, times),
            // but for the links (bucket names) and the catalog (shapes).
            let fixed_u64 = name.starts_with("vbolt:")
                && name != LINKS.full_name()
                && name != CATALOG.full_name();
            table.scan(Bound::Unbounded, Bound::Unbounded, false, |k, v| {
                n += 1;
                reporter.add(1);
                if fixed_u64 && v.len() != 8 {
                    report.report(name, format!("key {}: value is not 8 bytes", hex(k)));
                }
                true
            })?;
        }
        if n != table.len()? {
            report.report(
                name,
                format!("{n} entries read but the table says {}", table.len()?),
            );
        }
        report.entries += n;
    }
    reporter.finish();
    find_undeclared(snap, &names, &mut report)?;
    tx.finish()?;
    Ok(report)
}

/// Lists the data tables that the recorded declarations do not name.
fn find_undeclared(
    snap: &ReadTxn,
    names: &[String],
    report: &mut CheckReport,
) -> Result<(), Error> {
    let Some(declared) = snap.open_named(DECLARED.full_name())? else {
        return Ok(());
    };
    report.declarations_recorded = true;
    for name in names {
        if matches!(Role::of(name).0, Role::Meta | Role::Other) {
            continue;
        }
        if declared.get(name.as_bytes(), |_| ())?.is_none() {
            report.undeclared.push(name.clone());
        }
    }
    Ok(())
}

/// The buckets an index's targets and terms are recorded to be keys of:
/// (name, table) for each, `None` where no link is recorded (a link to a
/// bucket the file does not have is a link to an empty bucket); and the
/// shapes the catalog records for its terms and targets, to show them.
struct Linked {
    targets: Option<(String, Option<RawTable>)>,
    terms: Option<(String, Option<RawTable>)>,
    term_shape: Option<Shape>,
    target_shape: Option<Shape>,
}

impl Linked {
    fn term(&self, bytes: &[u8]) -> String {
        shown(self.term_shape.as_ref(), bytes)
    }

    fn target(&self, bytes: &[u8]) -> String {
        shown(self.target_shape.as_ref(), bytes)
    }
}

/// Bytes in hex, followed by their reading where a shape describes them:
/// `7275737400 ("rust")`.
fn shown(shape: Option<&Shape>, bytes: &[u8]) -> String {
    match shape.map(|s| s.read(bytes)) {
        Some(Ok(v)) => format!("{} ({v})", hex(bytes)),
        _ => hex(bytes),
    }
}

fn linked_buckets(tx: &ReadTx, index: &str) -> Result<Linked, Error> {
    let snap = tx.raw();
    let (mut term_shape, mut target_shape) = (None, None);
    // A catalog that cannot be read only costs the readings.
    for (part, shape) in recorded_shapes(tx, &format!("index:{index}")).unwrap_or_default() {
        match part.as_str() {
            "term" => term_shape = Some(shape),
            "target" => target_shape = Some(shape),
            _ => {}
        }
    }
    let Some(links) = snap.open_named(LINKS.full_name())? else {
        return Ok(Linked {
            targets: None,
            terms: None,
            term_shape,
            target_shape,
        });
    };
    let bucket = |role: &str| -> Result<Option<(String, Option<RawTable>)>, Error> {
        let key = format!("{role}:{index}");
        let Some(name) = links.get(key.as_bytes(), |v| String::from_utf8_lossy(v).into_owned())?
        else {
            return Ok(None);
        };
        let table = snap.open_named(&format!("bucket:{name}"))?;
        Ok(Some((name, table)))
    };
    Ok(Linked {
        targets: bucket("targets")?,
        terms: bucket("terms")?,
        term_shape,
        target_shape,
    })
}

/// Whether `key` is in a linked bucket (`Ok(true)` when there is no link).
fn in_bucket(linked: &Option<(String, Option<RawTable>)>, key: &[u8]) -> Result<bool, Error> {
    match linked {
        None => Ok(true),
        Some((_, None)) => Ok(false),
        Some((_, Some(table))) => Ok(table.get(key, |_| ())?.is_some()),
    }
}

fn bucket_name(linked: &Option<(String, Option<RawTable>)>) -> &str {
    linked.as_ref().map_or("", |(name, _)| name)
}

/// Checks one index through its term table; returns the term entries read.
fn check_index(
    snap: &ReadTxn,
    terms_name: &str,
    index: &str,
    terms: &RawTable,
    linked: &Linked,
    report: &mut CheckReport,
    reporter: &mut Reporter<impl FnMut(Progress)>,
) -> Result<u64, Error> {
    let targets_name = format!("index-targets:{index}");
    let counts_name = format!("index-counts:{index}");
    let targets = snap.open_named(&targets_name)?;
    let counts = snap.open_named(&counts_name)?;

    let mut entries = 0u64;
    let mut distinct_terms = 0u64;
    let mut current: Vec<u8> = Vec::new();
    let mut current_n = 0u64;
    let mut key = Vec::new();
    let mut failure = None;
    // Compares a finished term's entry count with its stored count.
    let close_term = |term: &[u8], n: u64, report: &mut CheckReport| -> Result<(), Error> {
        if !in_bucket(&linked.terms, term)? {
            report.report(
                terms_name,
                format!(
                    "term {} ({n} entries) is not a key of bucket {}, which the index's terms \
                     are declared to be in",
                    linked.term(term),
                    bucket_name(&linked.terms)
                ),
            );
        }
        let stored = match &counts {
            Some(c) => c.get(term, |v| <[u8; 8]>::try_from(v).map(u64::from_be_bytes))?,
            None => None,
        };
        match stored {
            Some(Ok(c)) if c == n => {}
            Some(Ok(c)) => report.report(
                &counts_name,
                format!("term {}: count {c}, but it has {n} entries", hex(term)),
            ),
            Some(Err(_)) => report.report(
                &counts_name,
                format!("term {}: count is not 8 bytes", hex(term)),
            ),
            None => report.report(
                &counts_name,
                format!("term {}: no count, but it has {n} entries", hex(term)),
            ),
        }
        Ok(())
    };
    terms.scan(Bound::Unbounded, Bound::Unbounded, false, |k, v| {
        entries += 1;
        reporter.add(1);
        let Some([term, prio, target]) = crate::index::split_term_entry(k, v) else {
            report.report(
                terms_name,
                format!("entry {}: its stored lengths do not fit the key", hex(k)),
            );
            return true;
        };
        if term != current.as_slice() || distinct_terms == 0 {
            if distinct_terms > 0
                && let Err(e) = close_term(&current, current_n, report)
            {
                failure = Some(e);
                return false;
            }
            current.clear();
            current.extend_from_slice(term);
            current_n = 0;
            distinct_terms += 1;
        }
        current_n += 1;
        match in_bucket(&linked.targets, target) {
            Ok(true) => {}
            Ok(false) => report.report(
                terms_name,
                format!(
                    "term {}: target {} is not a key of bucket {} (a record deleted without \
                     its index entries?)",
                    linked.term(term),
                    linked.target(target),
                    bucket_name(&linked.targets)
                ),
            ),
            Err(e) => {
                failure = Some(e);
                return false;
            }
        }
        key.clear();
        key.extend_from_slice(target);
        key.extend_from_slice(term);
        let found = match &targets {
            Some(t) => match t.get(&key, |p| p == prio) {
                Ok(found) => found,
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            },
            None => None,
        };
        match found {
            Some(true) => {}
            Some(false) => report.report(
                &targets_name,
                format!(
                    "target entry {}: priority differs from its term entry",
                    hex(&key)
                ),
            ),
            None => report.report(
                &targets_name,
                format!("term entry {} has no target entry", hex(k)),
            ),
        }
        true
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if distinct_terms > 0 {
        close_term(&current, current_n, report)?;
    }
    let target_entries = match &targets {
        Some(t) => t.len()?,
        None => 0,
    };
    if target_entries != entries {
        report.report(
            &targets_name,
            format!("{target_entries} target entries for {entries} term entries"),
        );
    }
    let count_entries = match &counts {
        Some(c) => c.len()?,
        None => 0,
    };
    if count_entries != distinct_terms {
        report.report(
            &counts_name,
            format!("{count_entries} counts for {distinct_terms} terms with entries"),
        );
    }
    Ok(entries)
}
