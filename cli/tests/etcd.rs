//! The `vbolt` command on a database kept on an etcd cluster (feature
//! `etcd`): `etcd://HOST:PORT,.../PREFIX` in place of a file for the read
//! commands, `check` and `backup`; the file-only commands refuse it. The
//! test starts a 3-member cluster from the `etcd` binary on `PATH`:
//! `cargo test -p vbolt-cli --features etcd --test etcd`.
#![cfg(feature = "etcd")]

#[path = "../../vbolt/tests/etcd_cluster/mod.rs"]
#[allow(dead_code)] // the fault tests use the rest
mod etcd_cluster;

use std::process::{Command, Output};

use vbolt::Db;
use vbolt_examples::chat;

fn vbolt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vbolt"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = vbolt(args);
    assert!(
        out.status.success(),
        "vbolt {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_command_reads_checks_and_backs_up_a_database_on_etcd() {
    let cluster = etcd_cluster::Cluster::start(3);
    let prefix = format!("cli-{}/", std::process::id());
    let db = Db::open_etcd(&cluster.endpoints(), &prefix).unwrap();
    vbolt::ensure_buckets(&db, &chat::INFO).unwrap();
    let mut clock = chat::Clock::new();
    db.update(|tx| {
        let ann = chat::create_user(tx, "ann", "Ann").unwrap();
        let bo = chat::create_user(tx, "bo", "Bo").unwrap();
        let thread = chat::start_thread(tx, &[ann.id, bo.id], clock.tick()).unwrap();
        chat::post_message(tx, ann.id, thread.id, "hello", clock.tick()).unwrap();
        Ok::<_, vbolt::Error>(())
    })
    .unwrap();
    drop(db);

    let hosts: Vec<String> = cluster
        .endpoints()
        .iter()
        .map(|e| e.trim_start_matches("http://").to_string())
        .collect();
    let target = format!("etcd://{}/{prefix}", hosts.join(","));

    let info = ok(&["info", &target]);
    assert!(info.contains("engine:  etcd"), "{info}");
    assert!(info.contains("handles"), "{info}");
    assert!(ok(&["keys", &target, "handles"]).contains("ann"));
    assert!(ok(&["get", &target, "handles", "str:bo"]).contains("0x"));
    let check = ok(&["check", &target]);
    assert!(check.starts_with("ok:"), "{check}");
    assert!(check.contains("on etcd"), "{check}");

    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("chat.backup");
    let copy = dir.path().join("copy.vbolt");
    ok(&["backup", &target, backup.to_str().unwrap()]);
    ok(&["restore", backup.to_str().unwrap(), copy.to_str().unwrap()]);
    assert!(ok(&["keys", copy.to_str().unwrap(), "handles"]).contains("bo"));
    assert!(ok(&["check", copy.to_str().unwrap()]).starts_with("ok:"));

    // A backup restores into an empty prefix of the cluster, not into a
    // database that holds data.
    let empty = format!("etcd://{}/{prefix}-restored", hosts.join(","));
    let restored = vbolt(&["restore", backup.to_str().unwrap(), &empty]);
    assert!(restored.status.success(), "{restored:?}");
    assert!(ok(&["keys", &empty, "handles"]).contains("bo"));
    assert!(ok(&["check", &empty]).starts_with("ok:"));
    let refused = vbolt(&["restore", backup.to_str().unwrap(), &target]);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not empty"),
        "{refused:?}"
    );

    for args in [
        vec!["compact", target.as_str()],
        vec!["recover", target.as_str()],
        vec!["info", target.as_str(), "--space"],
    ] {
        let out = vbolt(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("etcdctl"),
            "{args:?}"
        );
    }
    let bad = vbolt(&["info", "etcd://nohost"]);
    assert_eq!(bad.status.code(), Some(2));
}
