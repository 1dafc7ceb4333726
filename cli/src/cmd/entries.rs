//! `keys`, `get` and `dump`: the entries of one table, as stored bytes.

use std::io::Write;
use std::path::Path;

use clap::Args;
use serde_json::json;
use vbolt::Db;

use super::{Output, Target, print_json};
use crate::decoded::Described;
use crate::exit::{Exit, Failure, fail, operation};
use crate::show::{self, parse_key, show, show_key};
use crate::target::{open, table_name};

/// How `get` and `dump` show stored bytes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The value as the file's catalog describes it, if it does; else
    /// text when the bytes are printable, else hex (`0x...`).
    Auto,
    /// Always as text (not valid UTF-8: replacement characters).
    Text,
    /// Always as hex.
    Hex,
    /// JSON objects with both forms.
    Json,
}

impl Format {
    fn show(self, bytes: &[u8]) -> String {
        match self {
            Format::Text => String::from_utf8_lossy(bytes).into_owned(),
            Format::Hex => show::hex(bytes),
            Format::Auto | Format::Json => show(bytes),
        }
    }
}

#[derive(Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub db: Target,
    /// A bucket or an index, as `vbolt buckets` lists them, or an engine
    /// table's full name.
    pub bucket: String,
    /// Only keys starting with this (same forms as a key).
    #[arg(long)]
    pub prefix: Option<String>,
    /// At most this many keys (0: all).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub out: Output,
}

/// How `get` and `dump` show values.
#[derive(Args)]
pub struct Shown {
    /// How to show values (keys are always shown so that `get` takes them
    /// back).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Same as `--format json`.
    #[arg(long)]
    pub json: bool,
}

impl Shown {
    fn as_json(&self) -> bool {
        self.json || self.format == Format::Json
    }
}

#[derive(Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub db: Target,
    /// A bucket or an index, as `vbolt buckets` lists them, or an engine
    /// table's full name.
    pub bucket: String,
    /// The key, in one of the forms below.
    pub key: String,
    #[command(flatten)]
    pub shown: Shown,
}

#[derive(Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub db: Target,
    /// A bucket or an index, as `vbolt buckets` lists them, or an engine
    /// table's full name. Without it, the whole database as JSON lines,
    /// which `vbolt load` reads back.
    pub bucket: Option<String>,
    #[command(flatten)]
    pub shown: Shown,
}

/// Opens the database read-only and finds the table BUCKET names.
fn open_table(file: &Path, bucket: &str) -> Result<(Db, String), Failure> {
    let db = open(file, false)?;
    let table = table_name(&db, bucket)?;
    Ok((db, table))
}

pub fn keys(args: KeysArgs) -> Result<(), Failure> {
    let KeysArgs {
        db: Target { file },
        bucket,
        prefix,
        limit,
        out: Output { json },
    } = args;
    let (db, table) = open_table(&file, &bucket)?;
    let prefix = prefix
        .as_deref()
        .map(parse_key)
        .transpose()
        .map_err(|e| fail(Exit::Usage, e))?
        .unwrap_or_default();
    let tx = db.read_tx().map_err(operation)?;
    let mut keys = Vec::new();
    let more = vbolt::raw_entries(
        &tx,
        &table,
        None,
        &prefix,
        (limit > 0).then_some(limit),
        |k, _| keys.push(k.to_vec()),
    )
    .map_err(operation)?;
    if json {
        let described = Described::of(&tx, &table);
        print_json(&json!({
            "keys": keys
                .iter()
                .map(|k| Described::json(described.key(k), show::json(k)))
                .collect::<Vec<_>>(),
            "more": more.is_some(),
        }));
    } else {
        let mut out = std::io::stdout().lock();
        for k in &keys {
            let _ = writeln!(out, "{}", show_key(k));
        }
        if more.is_some() {
            eprintln!("(more keys follow; raise --limit, or 0 for all)");
        }
    }
    Ok(())
}

pub fn get(args: GetArgs) -> Result<(), Failure> {
    let GetArgs {
        db: Target { file },
        bucket,
        key,
        shown,
    } = args;
    let (db, table) = open_table(&file, &bucket)?;
    let key = parse_key(&key).map_err(|e| fail(Exit::Usage, e))?;
    let tx = db.read_tx().map_err(operation)?;
    let mut value = None;
    vbolt::raw_entries(&tx, &table, Some(&key), &key, Some(1), |k, v| {
        if k == key {
            value = Some(v.to_vec());
        }
    })
    .map_err(operation)?;
    let Some(value) = value else {
        return Err(fail(
            Exit::No,
            format!("no key {} in {table}", show_key(&key)),
        ));
    };
    let described = Described::of(&tx, &table);
    if shown.as_json() {
        print_json(&json!({
            "key": Described::json(described.entry_key(&key, &value), show::json(&key)),
            "value": Described::json(described.value(&value), show::json(&value)),
        }));
    } else if shown.format == Format::Auto {
        println!("{}", described.value_text(&key, &value, show));
    } else {
        println!("{}", shown.format.show(&value));
    }
    Ok(())
}

pub fn dump(args: DumpArgs) -> Result<(), Failure> {
    let DumpArgs {
        db: Target { file },
        bucket,
        shown,
    } = args;
    let Some(bucket) = bucket else {
        return dump_all(&file);
    };
    let json = shown.as_json();
    let (db, table) = open_table(&file, &bucket)?;
    let tx = db.read_tx().map_err(operation)?;
    let described = Described::of(&tx, &table);
    let mut out = std::io::stdout().lock();
    let mut first = true;
    if json {
        let _ = writeln!(out, "[");
    }
    vbolt::raw_entries(&tx, &table, None, b"", None, |k, v| {
        if json {
            let sep = if first { "" } else { "," };
            let entry = json!({
                "key": Described::json(described.entry_key(k, v), show::json(k)),
                "value": Described::json(described.value(v), show::json(v)),
            });
            let _ = writeln!(out, "{sep}{entry}");
        } else if shown.format == Format::Auto {
            let _ = writeln!(out, "{}\t{}", show_key(k), described.value_text(k, v, show));
        } else {
            let _ = writeln!(out, "{}\t{}", show_key(k), shown.format.show(v));
        }
        first = false;
    })
    .map_err(operation)?;
    if json {
        let _ = writeln!(out, "]");
    }
    Ok(())
}

/// The whole database as JSON lines, one snapshot: a line
/// `{"table": NAME}` for each table (empty ones too), then one line per
/// entry, `{"key": HEX, "value": HEX}`, in key order, with `"key_decoded"`
/// and `"value_decoded"` where the file's catalog describes them. `vbolt
/// load` reads it back; the decoded forms are for people and are ignored.
fn dump_all(file: &Path) -> Result<(), Failure> {
    let db = open(file, false)?;
    let names: Vec<String> = vbolt::tables(&db)
        .map_err(operation)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let tx = db.read_tx().map_err(operation)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = Ok(());
    for table in &names {
        let described = Described::of(&tx, table);
        if written.is_ok() {
            written = writeln!(out, "{}", json!({ "table": table }));
        }
        vbolt::raw_entries(&tx, table, None, b"", None, |k, v| {
            if written.is_err() {
                return;
            }
            let mut line = json!({ "key": show::hex(k), "value": show::hex(v) });
            if let Some(Ok(d)) = described.entry_key(k, v) {
                line["key_decoded"] = crate::decoded::to_json(&d);
            }
            if let Some(Ok(d)) = described.value(v) {
                line["value_decoded"] = crate::decoded::to_json(&d);
            }
            written = writeln!(out, "{line}");
        })
        .map_err(operation)?;
    }
    written
        .and_then(|()| out.flush())
        .map_err(|e| fail(Exit::Failed, format!("writing the dump: {e}")))
}
