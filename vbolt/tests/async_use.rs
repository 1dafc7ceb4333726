//! vbolt from async code: the documented pattern works on a real runtime,
//! and the classic mistake (a write transaction held across an `.await`)
//! is an error, not a hang.

use std::sync::Arc;

use vbolt::*;

static COUNTERS: Bucket<String, u64> = Bucket::new("counters", vpack::key::string_z(), vpack::uint);

#[test]
fn writes_in_spawn_blocking_and_reads_in_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let db = Arc::new(Db::in_memory().unwrap());
    rt.block_on(async {
        let mut writers = Vec::new();
        for _ in 0..16 {
            let db = Arc::clone(&db);
            // Each write transaction runs whole on a blocking thread.
            writers.push(tokio::task::spawn_blocking(move || {
                db.update(|tx| {
                    let n = get(tx, &COUNTERS, "hits")?.unwrap_or(0);
                    write(tx, &COUNTERS, "hits", &mut (n + 1));
                    Ok::<_, Error>(())
                })
            }));
        }
        for w in writers {
            w.await.unwrap().unwrap();
        }
        // A short read runs directly in the task.
        let hits = db.view(|tx| get(tx, &COUNTERS, "hits")).unwrap();
        assert_eq!(hits, Some(16), "every update counted once");
    });
}

#[test]
fn a_write_transaction_held_across_an_await_is_an_error_not_a_hang() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let db = Arc::new(Db::in_memory().unwrap());
    let local = tokio::task::LocalSet::new();
    let (holder, second) = local.block_on(&rt, async {
        let held = {
            let db = Arc::clone(&db);
            // WriteTx is not Send, so only a local task can hold it across
            // an await at all (a spawned one does not compile).
            tokio::task::spawn_local(async move {
                let mut tx = db.write_tx().unwrap();
                write(&mut tx, &COUNTERS, "held", &mut 1);
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                tx.commit()
            })
        };
        let other = {
            let db = Arc::clone(&db);
            tokio::task::spawn_local(async move {
                tokio::task::yield_now().await;
                // Same thread, the first transaction still open: waiting
                // would block the only thread the holder can finish on.
                db.write_tx().map(drop)
            })
        };
        (held.await.unwrap(), other.await.unwrap())
    });
    holder.unwrap();
    assert!(matches!(second, Err(Error::WriteInProgress)), "{second:?}");
    assert_eq!(db.view(|tx| get(tx, &COUNTERS, "held")).unwrap(), Some(1));
}
