//! Inspection: what is in a database, with or without the application's
//! types.

use std::fmt::Debug;
use std::ops::Bound;

use vpack::Blank;

use crate::bucket::Bucket;
use crate::db::Db;
use crate::engine::TreeShape;
use crate::error::Error;
use crate::scan::iterate_all;
use crate::tx::{ReadTx, Readable};

/// What an engine table holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A bucket's entries (`bucket:NAME`).
    Bucket,
    /// An index's term entries (`index:NAME`).
    IndexTerms,
    /// An index's target entries (`index-targets:NAME`).
    IndexTargets,
    /// An index's counts (`index-counts:NAME`).
    IndexCounts,
    /// vbolt's own bookkeeping (`vbolt:NAME`).
    Meta,
    /// A table vbolt did not create.
    Other,
}

impl Role {
    /// The role and declared name of an engine table name.
    pub fn of(engine_name: &str) -> (Role, &str) {
        const PREFIXES: [(&str, Role); 5] = [
            ("bucket:", Role::Bucket),
            ("index:", Role::IndexTerms),
            ("index-targets:", Role::IndexTargets),
            ("index-counts:", Role::IndexCounts),
            ("vbolt:", Role::Meta),
        ];
        PREFIXES
            .iter()
            .find_map(|(p, role)| engine_name.strip_prefix(p).map(|n| (*role, n)))
            .unwrap_or((Role::Other, engine_name))
    }
}

/// One engine table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// The engine-level name (`bucket:users`).
    pub name: String,
    /// The declared name (`users`).
    pub declared: String,
    /// What it holds.
    pub role: Role,
    /// Number of entries.
    pub entries: u64,
    /// The shape of its B-tree: how many pages a lookup visits.
    pub shape: TreeShape,
}

/// Every table of the database, in engine-name order.
///
/// ```
/// use vbolt::*;
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::key::fuint(), vpack::string);
/// let db = Db::in_memory()?;
/// db.update(|tx| { write(tx, &USERS, 1, &mut "ann".into()); Ok::<_, Error>(()) })?;
/// let t = &tables(&db)?[0];
/// assert_eq!((t.name.as_str(), t.role, t.entries), ("bucket:users", Role::Bucket, 1));
/// assert_eq!((t.shape.depth, t.shape.leaf_pages, t.shape.branch_pages), (1, 1, 0));
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn tables(db: &Db) -> Result<Vec<TableInfo>, Error> {
    let tx = db.read_tx()?;
    let mut out = Vec::new();
    for name in tx.raw().table_names()? {
        let (entries, shape) = match tx.raw().open_named(&name)? {
            Some(t) => (t.len()?, t.shape()?),
            None => (0, TreeShape::default()),
        };
        let (role, declared) = Role::of(&name);
        out.push(TableInfo {
            declared: declared.to_string(),
            role,
            entries,
            shape,
            name,
        });
    }
    tx.finish()?;
    Ok(out)
}

/// Visits up to `limit` raw entries (`None`: every entry) of the engine table
/// `table` whose keys start with `prefix`, from key `from` (inclusive) or
/// the first; returns the key the next page starts at, `None` at the end.
///
/// ```
/// use vbolt::*;
/// static N: Bucket<u8, u8> = Bucket::new("n", vpack::key::byte(), vpack::byte);
/// let db = Db::in_memory()?;
/// db.update(|tx| { for i in 1..=5u8 { write(tx, &N, i, &mut 0); } Ok::<_, Error>(()) })?;
/// let tx = db.read_tx()?;
/// let mut keys = Vec::new();
/// let next = raw_entries(&tx, "bucket:n", None, b"", Some(3), |k, _| keys.push(k.to_vec()))?;
/// assert_eq!(keys, [[1], [2], [3]]);
/// assert_eq!(next, Some(vec![4]));
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn raw_entries(
    tx: &ReadTx,
    table: &str,
    from: Option<&[u8]>,
    prefix: &[u8],
    limit: Option<usize>,
    mut visit: impl FnMut(&[u8], &[u8]),
) -> Result<Option<Vec<u8>>, Error> {
    let t = tx
        .raw()
        .open_named(table)?
        .ok_or_else(|| Error::NoSuchTable(table.to_string()))?;
    let start = match from {
        Some(f) if f > prefix => f,
        _ => prefix,
    };
    let mut taken = 0usize;
    let mut next = None;
    t.scan(Bound::Included(start), Bound::Unbounded, false, |k, v| {
        if !k.starts_with(prefix) {
            return false;
        }
        if limit.is_some_and(|limit| taken >= limit) {
            next = Some(k.to_vec());
            return false;
        }
        taken += 1;
        visit(k, v);
        true
    })?;
    Ok(next)
}

/// Visits up to `limit` entries (`None`: every entry) of a declared bucket
/// as `Debug` text, in key order; returns how many were visited. An entry
/// that does not unpack stops the walk with [`Error::Decode`].
///
/// ```
/// use vbolt::*;
/// static NAMES: Bucket<u64, String> = Bucket::new("names", vpack::key::fuint(), vpack::string);
/// let db = Db::in_memory()?;
/// db.update(|tx| { write(tx, &NAMES, 7, &mut "ann".into()); Ok::<_, Error>(()) })?;
/// let mut lines = Vec::new();
/// debug_entries(&db.read_tx()?, &NAMES, Some(10), |k, v| lines.push(format!("{k} = {v}")))?;
/// assert_eq!(lines, [r#"7 = "ann""#]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn debug_entries<K, V>(
    tx: &impl Readable,
    bucket: &Bucket<K, V>,
    limit: Option<usize>,
    mut visit: impl FnMut(String, String),
) -> Result<usize, Error>
where
    K: Debug + Clone + Blank + PartialEq,
    V: Debug + Default,
{
    let limit = limit.unwrap_or(usize::MAX);
    let mut n = 0;
    if limit == 0 {
        return Ok(0);
    }
    iterate_all(tx, bucket, |k, v| {
        visit(format!("{k:?}"), format!("{v:?}"));
        n += 1;
        n < limit
    })?;
    Ok(n)
}

/// Splits a raw entry of an index's term table (`index:NAME`, as
/// [`raw_entries`] yields them) into its (term, priority, target) bytes,
/// using the lengths its value records; `None` if they do not fit the key
/// (damage). With [`recorded_shapes`](crate::recorded_shapes) for the
/// index, a tool shows each part as a value.
///
/// ```
/// use vbolt::*;
/// static TAGS: Index<String, u64> = Index::of("tags");
/// let db = Db::in_memory()?;
/// db.update(|tx| { set_target_single_term(tx, &TAGS, 7, "rust"); Ok::<_, Error>(()) })?;
/// let tx = db.read_tx()?;
/// let mut parts = Vec::new();
/// raw_entries(&tx, "index:tags", None, b"", None, |k, v| {
///     parts.push(index_entry_parts(k, v).map(|p| p.map(<[u8]>::to_vec)));
/// })?;
/// assert_eq!(parts, [Some([b"rust\0".to_vec(), vec![0, 0], 7u64.to_be_bytes().to_vec()])]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn index_entry_parts<'k>(key: &'k [u8], value: &[u8]) -> Option<[&'k [u8]; 3]> {
    crate::index::split_term_entry(key, value)
}
