//! The catalog: what each declaration's bytes hold, recorded in the file.
//!
//! A bucket declared by its types ([`Bucket::of`](crate::Bucket::of)) and
//! every index (whose parts are key encodings) come with descriptions
//! ([`vpack::Shape`]): the key's and value's, the term's, target's and
//! priority's. [`init_buckets`](crate::init_buckets) keeps them in the
//! table `vbolt:catalog` (key: the engine table's name; value: the
//! described parts), like SQLite keeps its schema in an ordinary table.
//!
//! Each later declaration is compared with the record before anything else
//! is written. It must read what the record describes
//! ([`Shape::reads`]): the same key encodings, and for a versioned value the
//! same struct at the same or a later version. A later version replaces
//! the record; anything else fails with [`Error::SchemaMismatch`], naming
//! the table, the part and both descriptions, instead of reading garbage
//! later. A part without a description (a hand-written pack function)
//! neither is checked nor replaces what is recorded.

use vpack::{Pack, Shape};

use crate::engine::{KvRead, TableId, TableKind};
use crate::error::Error;

/// Where the descriptions live.
pub(crate) static CATALOG: TableId = TableId::new(TableKind::Meta, "catalog");

/// One described part of a declaration.
#[derive(Pack, Debug, Clone, PartialEq)]
pub(crate) struct Described {
    /// `key`, `value`, `term`, `target` or `priority`.
    pub(crate) part: String,
    pub(crate) shape: Shape,
}

/// A catalog record: the described parts of one declaration.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub(crate) struct Record {
    pub(crate) parts: Vec<Described>,
}

/// What a declaration's parts hold: (part, shape) for each described one.
pub(crate) type Declared = Vec<(&'static str, Shape)>;

/// The record for `table` merged with `declared`: `Ok(None)` when nothing
/// changes, `Ok(Some(record))` to write, or the mismatch.
pub(crate) fn merge(
    kv: &impl KvRead,
    table: &TableId,
    declared: Declared,
) -> Result<Option<Record>, Error> {
    let key = table.full_name().as_bytes();
    let recorded = match kv.get(&CATALOG, key, Record::from_bytes)? {
        None => Record { parts: Vec::new() },
        Some(Ok(r)) => r,
        Some(Err(source)) => {
            return Err(Error::Decode {
                table: "vbolt:catalog",
                part: "value",
                key: key.to_vec(),
                source,
            });
        }
    };
    let mut merged = recorded.clone();
    for (part, shape) in declared {
        if shape == Shape::Unknown {
            continue;
        }
        match merged.parts.iter_mut().find(|d| d.part == part) {
            Some(old) if !shape.reads(&old.shape) => {
                return Err(Error::SchemaMismatch {
                    table: table.name(),
                    part,
                    recorded: old.shape.to_string(),
                    declared: shape.to_string(),
                });
            }
            Some(old) => old.shape = shape,
            None => merged.parts.push(Described {
                part: part.to_string(),
                shape,
            }),
        }
    }
    Ok((merged != recorded).then_some(merged))
}
