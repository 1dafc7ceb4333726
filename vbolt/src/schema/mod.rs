//! What the program declared, and what the file records of it.
//!
//! [`Info`] lists a program's buckets and indexes, for creating them up
//! front and for introspection; [`init_buckets`] records them in the file,
//! with the links of indexes to the buckets they point into
//! ([`crate::links`]) and the descriptions of their bytes ([`catalog`]).

mod catalog;

pub(crate) use catalog::CATALOG;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::bucket::Bucket;
use crate::db::Db;
use crate::engine::{TableId, TableKind};
use crate::error::Error;
use crate::index::Index;
use crate::links::LINKS;
use crate::tx::WriteTx;
use crate::tx::sealed::Access;

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
        /// What the declaration's parts hold, where known.
        fn shapes(&self) -> super::catalog::Declared;
        /// The buckets an index points into (none for a bucket).
        fn links(&'static self) -> [Option<crate::links::Link>; 2] {
            [None, None]
        }
    }
}

impl<K, V> sealed::Table for Bucket<K, V> {
    fn tables(&self) -> &[TableId] {
        std::slice::from_ref(&self.table)
    }
    fn shapes(&self) -> catalog::Declared {
        let mut parts = vec![("key", (self.key_shape)())];
        if let Some(value) = self.value_shape {
            parts.push(("value", value()));
        }
        parts
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
    fn shapes(&self) -> catalog::Declared {
        let [term, target, priority] = self.shapes;
        vec![
            ("term", term()),
            ("target", target()),
            ("priority", priority()),
        ]
    }
    fn links(&'static self) -> [Option<crate::links::Link>; 2] {
        let link = |part, bucket: Option<&'static TableId>| {
            bucket.map(|bucket| crate::links::Link {
                index: &self.tables,
                part,
                bucket,
            })
        };
        [
            link(crate::links::Part::Targets, self.targets_in),
            link(crate::links::Part::Terms, self.terms_in),
        ]
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
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::key::fuint(), vpack::string);
/// static BY_NAME: Index<String, u64> = Index::new("users_by_name", vpack::key::string_z(), vpack::key::fuint());
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
/// An index declared with [`Index::targets_in`] or [`Index::terms_in`]
/// has its link recorded too (for [`check`](crate::check)) and registered
/// with the database (for [`Db::strict_indexes`](crate::Db::strict_indexes)).
///
/// ```
/// # use vbolt::*;
/// static USERS: Bucket<u64, String> = Bucket::new("users", vpack::key::fuint(), vpack::string);
/// static POSTS: Bucket<u64, String> = Bucket::new("posts", vpack::key::fuint(), vpack::string);
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
    for item in info.items() {
        let table = &item.tables()[0];
        let merged = match tx.kv() {
            Some(kv) => catalog::merge(kv, table, item.shapes()),
            None => Ok(None),
        };
        match merged {
            Ok(None) => {}
            Ok(Some(mut record)) => match vpack::Pack::to_bytes(&mut record) {
                Ok(bytes) => tx.put(&CATALOG, table.full_name().as_bytes(), &bytes),
                Err(source) => tx.fail(Error::Encode {
                    table: "vbolt:catalog",
                    source,
                }),
            },
            Err(e) => tx.fail(e),
        }
    }
    for table in info.items().iter().flat_map(|item| item.tables()) {
        tx.create_table(table);
        tx.put(&DECLARED, table.full_name().as_bytes(), &now);
    }
    for link in info.items().iter().flat_map(|item| item.links()).flatten() {
        tx.links().register(link);
        tx.put(
            &LINKS,
            link.record_key().as_bytes(),
            link.bucket.name().as_bytes(),
        );
    }
}

/// Creates every declared bucket and index that does not exist yet, in a
/// transaction of its own.
pub fn ensure_buckets(db: &Db, info: &Info) -> Result<(), Error> {
    let mut tx = db.write_tx()?;
    init_buckets(&mut tx, info);
    tx.commit()
}

/// What the file's catalog records for the engine table `table` (a
/// bucket's `bucket:NAME`, an index's `index:NAME`): each described part
/// (`key`, `value`, `term`, `target`, `priority`) and its shape; empty when
/// nothing is recorded (a hand-written declaration, or a file from before
/// the catalog). For tools that show stored bytes without the program's
/// types, with [`vpack::Shape::read`].
///
/// ```
/// use vbolt::*;
/// static SCORES: Bucket<String, u64> = Bucket::of("scores");
/// static INFO: Info = Info::new(&[&SCORES]);
/// let db = Db::in_memory()?;
/// ensure_buckets(&db, &INFO)?;
/// let tx = db.read_tx()?;
/// let parts = recorded_shapes(&tx, "bucket:scores")?;
/// let shown: Vec<String> = parts.iter().map(|(part, shape)| format!("{part}: {shape}")).collect();
/// assert_eq!(shown, ["key: string_z", "value: uint"]);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn recorded_shapes(
    tx: &impl crate::tx::Readable,
    table: &str,
) -> Result<Vec<(String, vpack::Shape)>, Error> {
    let Some(kv) = tx.kv() else {
        return Err(Error::Finished);
    };
    let record = crate::engine::KvRead::get(kv, &CATALOG, table.as_bytes(), |v| {
        <catalog::Record as vpack::Pack>::from_bytes(v)
    })?;
    match record {
        None => Ok(Vec::new()),
        Some(Ok(r)) => Ok(r.parts.into_iter().map(|d| (d.part, d.shape)).collect()),
        Some(Err(source)) => Err(Error::Decode {
            table: "vbolt:catalog",
            part: "value",
            key: table.as_bytes().to_vec(),
            source,
        }),
    }
}
