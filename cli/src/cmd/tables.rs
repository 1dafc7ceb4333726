//! `info` and `buckets`: what a database holds, table by table.

use clap::Args;
use serde_json::json;
use vbolt::Role;

use super::{Output, Target, print_json};
use crate::exit::{Exit, Failure, fail, operation};
use crate::target::{file_only, is_etcd, open};

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub db: Target,
    /// Also report free space. This opens the file read-write, which the
    /// engine's space statistics need: no table data changes, but the
    /// engine rewrites its own bookkeeping when the file is closed, so
    /// the file's bytes (not its contents) may change.
    #[arg(long)]
    pub space: bool,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args)]
pub struct BucketsArgs {
    #[command(flatten)]
    pub db: Target,
    #[command(flatten)]
    pub out: Output,
}

pub fn info(args: InfoArgs) -> Result<(), Failure> {
    let InfoArgs {
        db: Target { file },
        space,
        out: Output { json },
    } = args;
    if space {
        file_only(&file, "info --space")?;
    }
    let db = open(&file, space)?;
    let engine = if is_etcd(&file) { "etcd" } else { "redb 5" };
    let size = if is_etcd(&file) {
        0
    } else {
        std::fs::metadata(&file)
            .map_err(|e| fail(Exit::Failed, e.to_string()))?
            .len()
    };
    // The write-ahead log beside the file, if it has one: by now the open
    // has replayed it (or refused to, read-only).
    let wal = (!is_etcd(&file))
        .then(|| {
            let mut name = file.file_name().unwrap_or_default().to_os_string();
            name.push("-wal");
            let path = file.with_file_name(name);
            std::fs::metadata(&path).ok().map(|m| (path, m.len()))
        })
        .flatten();
    let tables = vbolt::tables(&db).map_err(operation)?;
    let space = if space {
        Some(db.space().map_err(operation)?)
    } else {
        None
    };
    if json {
        print_json(&json!({
            "file": file.display().to_string(),
            "size_bytes": size,
            "engine": engine,
            "write_ahead_log": wal.as_ref().map(|(p, n)| json!({
                "file": p.display().to_string(), "size_bytes": n,
            })),
            "free_bytes": space.map(|s| s.fragmented_bytes),
            "stored_bytes": space.map(|s| s.stored_bytes),
            "tables": tables.iter().map(|t| json!({
                "name": t.name, "declared": t.declared,
                "role": role_name(t.role), "entries": t.entries,
                "depth": t.shape.depth, "leaf_pages": t.shape.leaf_pages,
                "branch_pages": t.shape.branch_pages,
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!("file:    {}", file.display());
    if !is_etcd(&file) {
        println!("size:    {size} bytes");
    }
    println!("engine:  {engine} (vbolt layout: buckets, indexes as three tables)");
    if let Some((path, len)) = &wal {
        println!(
            "log:     {} ({len} bytes; a write-ahead log, replayed by every open)",
            path.display()
        );
    }
    match space {
        Some(s) => println!(
            "space:   {} bytes stored, {} metadata, {} free (reclaimable by `vbolt compact`)",
            s.stored_bytes, s.metadata_bytes, s.fragmented_bytes
        ),
        None => println!("space:   run `vbolt info --space` for free space"),
    }
    println!(
        "{:<14} {:<30} {:>12} {:>5} {:>10} {:>8}",
        "role", "name", "entries", "depth", "leaves", "branches"
    );
    for t in &tables {
        println!(
            "{:<14} {:<30} {:>12} {:>5} {:>10} {:>8}",
            role_name(t.role),
            t.declared,
            t.entries,
            t.shape.depth,
            t.shape.leaf_pages,
            t.shape.branch_pages
        );
    }
    Ok(())
}

pub fn buckets(args: BucketsArgs) -> Result<(), Failure> {
    let BucketsArgs {
        db: Target { file },
        out: Output { json },
    } = args;
    let db = open(&file, false)?;
    let tables = vbolt::tables(&db).map_err(operation)?;
    let listed: Vec<_> = tables
        .iter()
        .filter(|t| matches!(t.role, Role::Bucket | Role::IndexTerms | Role::Other))
        .map(|t| {
            let kind = match t.role {
                Role::Bucket => "bucket",
                Role::IndexTerms => "index",
                _ => "other",
            };
            (kind, t)
        })
        .collect();
    if json {
        print_json(&json!(
            listed
                .iter()
                .map(|(kind, t)| json!({"kind": kind, "name": t.declared, "entries": t.entries}))
                .collect::<Vec<_>>()
        ));
    } else {
        for (kind, t) in listed {
            println!("{kind:<7} {:<30} {:>12}", t.declared, t.entries);
        }
    }
    Ok(())
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Bucket => "bucket",
        Role::IndexTerms => "index terms",
        Role::IndexTargets => "index targets",
        Role::IndexCounts => "index counts",
        Role::Meta => "vbolt",
        Role::Other => "other",
    }
}
