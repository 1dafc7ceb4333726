//! [`Info`]: the list of a program's declared buckets and indexes, for
//! creating them up front and for introspection.

use crate::bucket::Bucket;
use crate::db::Db;
use crate::engine::TableId;
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
        fn table(&self) -> &crate::engine::TableId;
    }
}

impl<K, V> sealed::Table for Bucket<K, V> {
    fn table(&self) -> &TableId {
        &self.table
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

impl<K, T, P> sealed::Table for Index<K, T, P> {
    fn table(&self) -> &TableId {
        &self.table
    }
}

impl<K, T, P> Declared for Index<K, T, P> {
    fn name(&self) -> &'static str {
        self.table.name()
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
/// static BY_NAME: Index<u64, String> = Index::new("users_by_name", vpack::string_z, vpack::fuint);
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

    /// The engine-level table name of a declaration, as raw tools list it.
    pub fn table_name(item: &dyn Declared) -> &str {
        item.table().full_name()
    }
}

/// Creates every declared bucket and index that does not exist yet, in `tx`.
pub fn init_buckets(tx: &mut WriteTx, info: &Info) {
    for item in info.items() {
        tx.create_table(item.table());
    }
}

/// Creates every declared bucket and index that does not exist yet, in a
/// transaction of its own.
pub fn ensure_buckets(db: &Db, info: &Info) -> Result<(), Error> {
    let mut tx = db.write_tx()?;
    init_buckets(&mut tx, info);
    tx.commit()
}
