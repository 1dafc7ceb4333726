//! `check`: every entry read, every index verified, and the engine's page
//! checksums (on a scratch copy).

use clap::Args;
use serde_json::json;

use super::{Output, Target, print_json};
use crate::engine_check::{self, Verdict};
use crate::exit::{Exit, Failure, fail, operation};
use crate::progress::{progress_bar, report};
use crate::target::{is_etcd, open};

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: Target,
    /// Skip the engine's check of every page's checksum. By default it
    /// runs, on an owner-only scratch copy beside FILE (FILE is never
    /// written; the copy needs as much free space as FILE), so damage
    /// inside a stored value, which the plain check cannot see, is found.
    #[arg(long)]
    pub quick: bool,
    /// The default; kept for scripts written for vbolt 0.2.
    #[arg(long, hide = true)]
    pub engine: bool,
    #[command(flatten)]
    pub out: Output,
}

pub fn check(args: CheckArgs) -> Result<(), Failure> {
    let CheckArgs {
        db: Target { file },
        quick,
        engine,
        out: Output { json },
    } = args;
    // An etcd cluster has no pages to verify: its members check
    // their own data.
    let engine = (engine || !quick) && !is_etcd(&file);
    let db = open(&file, false)?;
    // Copied while `db` holds the file open read-only.
    let engine_verdict = if engine {
        Some(engine_check::check_on_copy(&file).map_err(|e| fail(Exit::Failed, e))?)
    } else {
        None
    };
    let bar = progress_bar("checking");
    let r = vbolt::check_with_progress(&db, report(&bar)).map_err(operation)?;
    bar.finish_and_clear();
    let engine_problem = match &engine_verdict {
        None | Some(Verdict::Clean) => None,
        Some(Verdict::Repairable) => Some(
            "damage the engine can repair: `Db::check_engine` repairs it in place, \
             possibly returning to the previous commit (back the file up first)"
                .to_string(),
        ),
        Some(Verdict::Damaged(why)) => Some(format!("damage the engine cannot repair: {why}")),
    };
    let problems = r.problem_count + u64::from(engine_problem.is_some());
    let ok = problems == 0;
    if json {
        print_json(&json!({
            "ok": ok,
            "tables": r.tables, "entries": r.entries, "indexes": r.indexes,
            "engine_clean": engine_verdict.as_ref().map(|v| matches!(v, Verdict::Clean)),
            "engine_problem": engine_problem,
            "problem_count": problems,
            "problems": r.problems.iter().map(|p| json!({"table": p.table, "what": p.what})).collect::<Vec<_>>(),
            "declarations_recorded": r.declarations_recorded,
            "undeclared": r.undeclared,
        }));
    } else {
        for name in &r.undeclared {
            println!(
                "{name}: declared nowhere (in no declaration list recorded by \
                 ensure_buckets)"
            );
        }
        if let Some(what) = &engine_problem {
            println!("engine: {what}");
        }
        for p in &r.problems {
            println!("{}: {}", p.table, p.what);
        }
        println!(
            "{}: {} tables, {} entries, {} indexes read; {}{}",
            if ok { "ok" } else { "PROBLEMS" },
            r.tables,
            r.entries,
            r.indexes,
            counted(problems, "problem"),
            if engine_verdict.is_some() {
                "; page checksums verified"
            } else if is_etcd(&file) {
                " (on etcd: no page checksums to verify)"
            } else {
                " (page checksums not verified: --quick)"
            }
        );
    }
    if !ok {
        return Err(fail(
            Exit::No,
            format!("{} found", counted(problems, "problem")),
        ));
    }
    Ok(())
}

/// `n` and `noun`, plural unless `n` is 1: "1 problem", "0 problems".
fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
