//! [`Info`]: the list of a program's declared buckets and indexes, for
//! creating them up front and for introspection.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::bucket::Bucket;
use crate::db::Db;
use crate::engine::{TableId, TableKind};
use crate::error::Error;
use crate::index::Index;
use crate::tx::WriteTx;

/// What a declaration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A [`Bucket`].
    Bucket,
    /// An [`Index`].
    Index,
}

/// A declared bucket or index, as listed in an [`Info`].
pub trait Declared: Sync + sealed::Table {
    /// The declared name.
    fn name(&self) -> &'static str;
    /// Bucket or index.
    fn kind(&self) -> Kind;
}

pub(crate) mod sealed {
    pub trait Table {
        /// The engine tables holding the declaration's data.
        fn tables(&self) -> &[crate::engine::TableId];
    }
}

impl<K, V> sealed::Table for Bucket<K, V> {
    fn tables(&self) -> &[TableId] {
        std::slice::from_ref(&self.table)
    }
}

impl<K, V> Declared for Bucket<K, V> {
    fn name(&self) -> &'static str {
        self.table.name()
    }
    fn kind(&self) -> Kind {
        Kind::Bucket
    }
}

impl<K, T, P> sealed::Table for Index<T, K, P> {
    fn tables(&self) -> &[TableId] {
        &self.tables
    }
}

impl<K, T, P> Declared for Index<T, K, P> {
    fn name(&self) -> &'static str {
        self.name()
    }
    fn kind(&self) -> Kind {
        Kind::Index
    }
}

/// The declared buckets and indexes of a program, listed once.
///
/// ```
/// use vbolt::*;
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::fuint, vpack::string);
/// static BY_NAME: Index<String, u64> = Index::new("users_by_name", vpack::string_z, vpack::fuint);
/// static INFO: Info = Info::new(&[&USERS, &BY_NAME]);
///
/// let db = Db::in_memory()?;
/// ensure_buckets(&db, &INFO)?;
/// let names: Vec<_> = INFO.items().iter().map(|d| (d.kind(), d.name())).collect();
/// assert_eq!(names, [(Kind::Bucket, "users"), (Kind::Index, "users_by_name")]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub struct Info {
    items: &'static [&'static dyn Declared],
}

impl Info {
    /// Lists the declarations.
    pub const fn new(items: &'static [&'static dyn Declared]) -> Info {
        Info { items }
    }

    /// Every declaration, in the order given.
    pub fn items(&self) -> &'static [&'static dyn Declared] {
        self.items
    }

    /// The engine-level names of a declaration's tables, as raw tools list
    /// them: one for a bucket (`bucket:NAME`), three for an index
    /// (`index:NAME`, `index-targets:NAME`, `index-counts:NAME`).
    pub fn table_names(item: &dyn Declared) -> impl Iterator<Item = &str> {
        item.tables().iter().map(TableId::full_name)
    }
}

/// Every table a declaration list recorded by [`init_buckets`] named:
/// engine-level name -> Unix time in milliseconds of the last call that
/// named it. Lets tools that know no declarations ([`check`](crate::check),
/// the CLI) tell a declared table from one that no code declared.
pub(crate) static DECLARED: TableId = TableId::new(TableKind::Meta, "declared");

/// Creates every declared bucket and index that does not exist yet, in
/// `tx`, and adds `info`'s declarations to those recorded in the file.
/// Lists add up: several modules (or several programs sharing one file)
/// each record their own, in any order and as often as they like, and
/// [`check`](crate::check) reports a table in the file only when no list
/// ever declared it. A table a program stops declaring stays recorded:
/// remove its data when retiring it.
///
/// ```
/// # use vbolt::*;
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::fuint, vpack::string);
/// static POSTS: Bucket<u64, String> = Bucket::new("posts", vpack::fuint, vpack::string);
/// static ACCOUNTS: Info = Info::new(&[&USERS]);
/// static BLOG: Info = Info::new(&[&POSTS]);
/// let db = Db::in_memory()?;
/// ensure_buckets(&db, &ACCOUNTS)?; // one module's tables
/// ensure_buckets(&db, &BLOG)?; // another's: both stay declared
/// assert!(check(&db)?.undeclared.is_empty());
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn init_buckets(tx: &mut WriteTx, info: &Info) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        .to_be_bytes();
    for table in info.items().iter().flat_map(|item| item.tables()) {
        tx.create_table(table);
        tx.put(&DECLARED, table.full_name().as_bytes(), &now);
    }
}

/// Creates every declared bucket and index that does not exist yet, in a
/// transaction of its own.
pub fn ensure_buckets(db: &Db, info: &Info) -> Result<(), Error> {
    let mut tx = db.write_tx()?;
    init_buckets(&mut tx, info);
    tx.commit()
}
