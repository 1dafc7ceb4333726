//! The database a contract suite runs on: a new in-memory one by default,
//! or, with `VBOLT_TEST_ENGINE=etcd` (and feature `etcd`), a new database
//! under its own prefix of a 3-member etcd cluster that the first call
//! starts (one per test process; it stops when the process ends).
//!
//! `VBOLT_TEST_ENGINE=etcd cargo test -p vbolt --features etcd --test bucket`
//! runs the bucket suite on etcd.

use vbolt::Db;

#[cfg(feature = "etcd")]
#[path = "../etcd_cluster/mod.rs"]
#[allow(dead_code)] // the fault test uses the rest
mod etcd_cluster;

/// A new, empty database on the engine under test.
pub fn test_db() -> Db {
    match std::env::var("VBOLT_TEST_ENGINE").as_deref() {
        Ok("etcd") => on_etcd(),
        Ok("redb") | Err(_) => Db::in_memory().unwrap(),
        Ok(other) => panic!("VBOLT_TEST_ENGINE={other}: expected redb or etcd"),
    }
}

#[cfg(feature = "etcd")]
fn on_etcd() -> Db {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CLUSTER: OnceLock<etcd_cluster::Cluster> = OnceLock::new();
    static N: AtomicUsize = AtomicUsize::new(0);
    let cluster = CLUSTER.get_or_init(|| etcd_cluster::Cluster::start(3));
    let prefix = format!(
        "suite-{}-{}/",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let options = vbolt::EtcdOptions::new().max_txn_ops(etcd_cluster::MAX_TXN_OPS);
    Db::open_etcd_with(&cluster.endpoints(), &prefix, options).unwrap()
}

#[cfg(not(feature = "etcd"))]
fn on_etcd() -> Db {
    panic!("VBOLT_TEST_ENGINE=etcd needs the etcd feature: cargo test -p vbolt --features etcd")
}
