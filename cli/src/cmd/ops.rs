//! `backup`, `restore`, `compact` and `recover`: the commands that copy or
//! rewrite a database.

use std::path::PathBuf;

use clap::Args;
use vbolt::BackupOptions;

use super::Target;
use crate::exit::{Exit, Failure, fail, operation};
use crate::progress::{progress_bar, report};
use crate::target::{file_only, is_etcd, open};

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: Target,
    /// Where to write the backup (`-`: stdout); never overwritten.
    pub out: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup to read (`-`: stdin).
    pub backup: PathBuf,
    #[command(flatten)]
    pub db: Target,
}

#[derive(Args)]
pub struct LoadArgs {
    /// The dump to read (`-`: stdin), as `vbolt dump FILE` writes it.
    pub dump: PathBuf,
    #[command(flatten)]
    pub db: Target,
}

#[derive(Args)]
pub struct CompactArgs {
    #[command(flatten)]
    pub db: Target,
    /// Write the compacted database here instead of in place.
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    pub db: Target,
}

pub fn backup(args: BackupArgs) -> Result<(), Failure> {
    let BackupArgs {
        db: Target { file },
        out,
    } = args;
    let db = open(&file, false)?;
    let bar = progress_bar("backing up");
    let summary = if out.as_os_str() == "-" {
        let stdout = std::io::BufWriter::new(std::io::stdout().lock());
        vbolt::backup(&db, stdout, &BackupOptions::all(), report(&bar))
    } else {
        if out.exists() {
            return Err(fail(
                Exit::Failed,
                format!("{} exists; not overwriting it", out.display()),
            ));
        }
        // Written beside OUT with FILE's permissions, synced, then
        // linked into place: OUT appears complete or not at all.
        vbolt::backup_to_path(&db, &out, &BackupOptions::all(), report(&bar))
    }
    .map_err(operation)?;
    bar.finish_and_clear();
    eprintln!(
        "backed up {} tables, {} entries, {} bytes",
        summary.tables, summary.entries, summary.bytes
    );
    Ok(())
}

pub fn restore(args: RestoreArgs) -> Result<(), Failure> {
    let RestoreArgs {
        backup,
        db: Target { file },
    } = args;
    let input: Box<dyn std::io::Read> = if backup.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&backup)
            .map_err(|e| fail(Exit::Open, format!("{}: {e}", backup.display())))?;
        Box::new(std::io::BufReader::new(f))
    };
    let bar = progress_bar("restoring");
    let summary = if is_etcd(&file) {
        let db = open(&file, true)?;
        vbolt::restore_into(&db, input, report(&bar))
    } else {
        vbolt::restore(input, &file, report(&bar))
    }
    .map_err(operation)?;
    bar.finish_and_clear();
    eprintln!(
        "restored {} tables, {} entries into {}",
        summary.tables,
        summary.entries,
        file.display()
    );
    Ok(())
}

pub fn compact(args: CompactArgs) -> Result<(), Failure> {
    let CompactArgs {
        db: Target { file },
        out,
    } = args;
    file_only(&file, "compact")?;
    let bar = progress_bar("compacting");
    let sizes = match &out {
        Some(out) => {
            let db = open(&file, false)?;
            vbolt::compact_into(&db, out, report(&bar))
        }
        None => {
            let mut db = open(&file, true)?;
            let sizes = vbolt::compact(&mut db, report(&bar)).map_err(operation)?;
            // Closing writes the engine's bookkeeping: the size the
            // file is left with is measured after it.
            drop(db);
            let after = std::fs::metadata(&file)
                .map_err(|e| fail(Exit::Failed, format!("{}: {e}", file.display())))?
                .len();
            Ok(vbolt::Compacted { after, ..sizes })
        }
    }
    .map_err(operation)?;
    bar.finish_and_clear();
    println!(
        "before: {} bytes\nafter:  {} bytes",
        sizes.before, sizes.after
    );
    Ok(())
}

pub fn recover(args: RecoverArgs) -> Result<(), Failure> {
    let RecoverArgs {
        db: Target { file },
    } = args;
    file_only(&file, "recover")?;
    // A read-write open recovers the file; closing it leaves it clean.
    drop(open(&file, true)?);
    println!("{}: recovered; it opens read-only now", file.display());
    Ok(())
}

/// Builds the new database file FILE from a dump (`vbolt dump FILE`, JSON
/// lines): a line that does not parse, or that vbolt refuses, stops the
/// load with its line number, and FILE does not appear.
pub fn load(args: LoadArgs) -> Result<(), Failure> {
    let LoadArgs {
        dump,
        db: Target { file },
    } = args;
    file_only(&file, "load")?;
    use std::io::BufRead;
    let input: Box<dyn BufRead> = if dump.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&dump)
            .map_err(|e| fail(Exit::Open, format!("{}: {e}", dump.display())))?;
        Box::new(std::io::BufReader::new(f))
    };
    let items = BufRead::lines(input)
        .enumerate()
        .map(|(n, line)| parse_dump_line(n + 1, line));
    let summary = vbolt::load(items, &file).map_err(|e| match e {
        // vbolt counts items; a dump has one per line.
        vbolt::Error::Backup(why) => fail(
            Exit::Failed,
            format!("{}: {}", dump.display(), why.replacen("item ", "line ", 1)),
        ),
        other => operation(other),
    })?;
    eprintln!(
        "loaded {} tables, {} entries into {}",
        summary.tables,
        summary.entries,
        file.display()
    );
    Ok(())
}

/// One line of a dump: `{"table": NAME}` or `{"key": HEX, "value": HEX,
/// ...}` (other fields, the decoded forms, are ignored).
fn parse_dump_line(
    n: usize,
    line: std::io::Result<String>,
) -> Result<vbolt::DumpItem, vbolt::Error> {
    let bad = |why: String| vbolt::Error::Backup(format!("line {n}: {why}"));
    let line = line.map_err(|e| bad(format!("cannot be read: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| bad(format!("not JSON: {e}")))?;
    if let Some(table) = v.get("table") {
        let name = table
            .as_str()
            .ok_or_else(|| bad("\"table\" is not text".into()))?;
        return Ok(vbolt::DumpItem::Table(name.to_string()));
    }
    let hex = |field: &str| -> Result<Vec<u8>, vbolt::Error> {
        let text = v
            .get(field)
            .and_then(|x| x.as_str())
            .ok_or_else(|| bad(format!("no \"table\", and no \"{field}\" as hex text")))?;
        crate::show::parse_hex(text).ok_or_else(|| bad(format!("\"{field}\" is not hex")))
    };
    Ok(vbolt::DumpItem::Entry {
        key: hex("key")?,
        value: hex("value")?,
    })
}
