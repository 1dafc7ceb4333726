//! End-to-end tests of the `vbolt` binary on databases made by the chat
//! example: output, `--json`, exit codes, errors, progress on a terminal,
//! and that read commands leave the file byte-for-byte unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vbolt_examples::chat;

fn vbolt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vbolt"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(args: &[&str]) -> String {
    let out = vbolt(args);
    assert!(
        out.status.success(),
        "vbolt {args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn code(args: &[&str]) -> (i32, String) {
    let out = vbolt(args);
    (out.status.code().unwrap_or(-1), text(&out.stderr))
}

/// A chat database: `users` users in one thread with `messages` messages.
fn chat_db(dir: &Path, users: usize, messages: usize) -> PathBuf {
    let path = dir.join("chat.vbolt");
    let db = chat::open(&path).unwrap();
    let mut clock = chat::Clock::new();
    let mut tx = db.write_tx().unwrap();
    let ids: Vec<_> = (0..users)
        .map(|i| {
            chat::create_user(&mut tx, &format!("user{i}"), &format!("User {i}"))
                .unwrap()
                .id
        })
        .collect();
    let thread = chat::start_thread(&mut tx, &ids, clock.tick()).unwrap();
    for m in 0..messages {
        chat::post_message(
            &mut tx,
            ids[m % users],
            thread.id,
            &format!("message {m}"),
            clock.tick(),
        )
        .unwrap();
    }
    tx.commit().unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn info_and_buckets_list_every_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 10);
    let out = ok(&["info", s(&db)]);
    assert!(out.contains("size:"), "{out}");
    assert!(out.contains("redb"), "{out}");
    for name in ["users", "handles", "threads", "messages", "thread_messages"] {
        assert!(out.contains(name), "{name} missing from {out}");
    }
    let out = ok(&["buckets", s(&db)]);
    let line = out
        .lines()
        .find(|l| l.contains("messages") && l.starts_with("bucket"))
        .unwrap();
    assert!(line.trim_end().ends_with(" 10"), "{line}");
    let v: serde_json::Value = serde_json::from_str(&ok(&["buckets", s(&db), "--json"])).unwrap();
    let handles = v
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "handles")
        .unwrap();
    assert_eq!(handles["entries"], 3);
    assert_eq!(handles["kind"], "bucket");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["info", s(&db), "--space", "--json"])).unwrap();
    assert!(v["free_bytes"].is_u64(), "{v}");
    let messages = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "bucket:messages")
        .unwrap();
    assert_eq!(messages["depth"], 1, "{messages}");
    assert_eq!(messages["leaf_pages"], 1, "{messages}");
    assert_eq!(messages["branch_pages"], 0, "{messages}");
}

#[test]
fn keys_get_and_dump_show_text_and_hex() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 5, 3);
    let out = ok(&["keys", s(&db), "handles"]);
    let keys: Vec<&str> = out.lines().collect();
    assert_eq!(
        keys,
        [
            "str:user0",
            "str:user1",
            "str:user2",
            "str:user3",
            "str:user4"
        ]
    );
    // What `keys` prints, `get` takes: in every table, every key.
    for table in ["handles", "users", "thread_messages"] {
        for key in ok(&["keys", s(&db), table, "--limit", "0"]).lines() {
            ok(&["get", s(&db), table, key]);
        }
    }
    let out = ok(&["keys", s(&db), "handles", "--limit", "2"]);
    assert_eq!(out.lines().count(), 2);
    let out = ok(&["keys", s(&db), "handles", "--prefix", "user3"]);
    assert_eq!(out.trim(), "str:user3");
    // Uuid values are not text: hex.
    let value = ok(&["get", s(&db), "handles", "str:user1"]);
    assert!(
        value.trim().starts_with("0x") && value.trim().len() == 2 + 32,
        "{value}"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "get",
        s(&db),
        "handles",
        "hex:757365723100",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["key"]["text"], "user1\\0");
    assert_eq!(v["value"]["hex"].as_str().unwrap(), &value.trim()[2..]);
    let (c, err) = code(&["get", s(&db), "handles", "str:nobody"]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("no key"), "{err}");
    let (c, err) = code(&["keys", s(&db), "nope"]);
    assert_eq!(c, 1, "{err}");
    // An index by its declared name, as `buckets` lists it, or by its
    // tables' engine names.
    assert_eq!(
        ok(&["keys", s(&db), "thread_messages", "--limit", "0"])
            .lines()
            .count(),
        3
    );
    assert_eq!(
        ok(&["keys", s(&db), "index:thread_messages", "--limit", "0"])
            .lines()
            .count(),
        3
    );

    let dump: serde_json::Value =
        serde_json::from_str(&ok(&["dump", s(&db), "handles", "--json"])).unwrap();
    let entries = dump.as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0]["key"]["text"], "user0\\0");
    assert_eq!(entries[0]["value"]["hex"].as_str().unwrap().len(), 32);
    assert_eq!(ok(&["dump", s(&db), "users"]).lines().count(), 5);
}

#[test]
fn read_commands_leave_the_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 4, 20);
    let before = std::fs::read(&db).unwrap();
    let modified = std::fs::metadata(&db).unwrap().modified().unwrap();
    ok(&["info", s(&db)]);
    ok(&["buckets", s(&db), "--json"]);
    ok(&["keys", s(&db), "messages"]);
    ok(&["get", s(&db), "handles", "str:user0"]);
    ok(&["dump", s(&db), "messages"]);
    ok(&["check", s(&db)]);
    ok(&["check", s(&db), "--engine"]);
    ok(&["backup", s(&db), s(&dir.path().join("b.backup"))]);
    assert!(
        std::fs::read(&db).unwrap() == before,
        "a read command changed the file"
    );
    assert_eq!(
        std::fs::metadata(&db).unwrap().modified().unwrap(),
        modified
    );
}

#[test]
fn check_passes_then_reports_damage_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 30);
    let out = ok(&["check", s(&db)]);
    assert!(out.contains("ok:"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&ok(&["check", s(&db), "--json"])).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["indexes"], 2);
    ok(&["check", s(&db), "--engine"]);

    {
        let raw = redb::Database::open(&db).unwrap();
        let tx = raw.begin_write().unwrap();
        {
            let def: redb::TableDefinition<vbolt::EngineKey, &[u8]> =
                redb::TableDefinition::new("index-counts:thread_messages");
            let mut counts = tx.open_table(def).unwrap();
            let key = {
                use redb::ReadableTable;
                counts.first().unwrap().unwrap().0.value().to_vec()
            };
            counts.insert(&key[..], &7u64.to_be_bytes()[..]).unwrap();
        }
        tx.commit().unwrap();
    }
    let out = vbolt(&["check", s(&db)]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("count 7, but it has 30 entries"),
        "{stdout}"
    );
    assert!(
        stdout.contains("; 1 problem; page checksums verified"),
        "{stdout}"
    );
}

#[test]
fn get_and_dump_show_described_values_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_db(dir.path(), 2, 3);
    let (id, content) = {
        let db = chat::open(&path).unwrap();
        let tx = db.read_tx().unwrap();
        let (id, m) = vbolt::entries(&tx, &chat::MESSAGES)
            .next()
            .unwrap()
            .unwrap();
        (id, m.content)
    };
    let key = format!("hex:{}", id.simple());
    // Text: the message as its type, not hex.
    let out = ok(&["get", s(&path), "messages", &key]);
    assert!(
        out.starts_with("Message { id: 0x") && out.contains(&format!("content: {content:?}")),
        "{out}"
    );
    // JSON: the bytes as before, and the decoded value beside them.
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["get", s(&path), "messages", &key, "--json"])).unwrap();
    assert_eq!(v["value"]["decoded"]["content"], content.as_str());
    assert_eq!(v["key"]["decoded"], format!("0x{}", id.simple()));
    let ts = v["value"]["decoded"]["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
    // A hand-written pack function has no description: hex as before.
    let users: serde_json::Value =
        serde_json::from_str(&ok(&["dump", s(&path), "users", "--json"])).unwrap();
    assert!(users[0]["value"].get("decoded").is_none(), "{users}");
    assert!(users[0]["value"]["hex"].is_string());
    // dump decodes every entry of a described bucket.
    let dump: serde_json::Value =
        serde_json::from_str(&ok(&["dump", s(&path), "messages", "--json"])).unwrap();
    assert_eq!(dump.as_array().unwrap().len(), 3);
    assert!(
        dump.as_array()
            .unwrap()
            .iter()
            .all(|e| e["value"]["decoded"]["content"].is_string())
    );
    // An index's entries show as term, priority and target.
    let entries: serde_json::Value =
        serde_json::from_str(&ok(&["dump", s(&path), "thread_messages", "--json"])).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        let d = &e["key"]["decoded"];
        assert!(
            d["term"].is_string() && d["priority"].is_i64() && d["target"].is_string(),
            "{e}"
        );
    }
    assert!(
        entries
            .iter()
            .any(|e| e["key"]["decoded"]["target"] == format!("0x{}", id.simple()))
    );
    let text = ok(&["dump", s(&path), "thread_messages"]);
    assert!(
        text.lines().all(|l| l.contains("\tentry { term: 0x")),
        "{text}"
    );
}

#[test]
fn a_whole_database_dump_loads_into_an_equal_file_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_db(dir.path(), 3, 12);
    let dump = ok(&["dump", s(&path)]);
    let lines: Vec<&str> = dump.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"table\":\"bucket:messages\"")),
        "{dump}"
    );
    // Values the catalog describes carry their decoded form, for people.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"value_decoded\":{\"content\":")),
        "{dump}"
    );
    let dump_file = dir.path().join("chat.jsonl");
    std::fs::write(&dump_file, &dump).unwrap();

    let copy = dir.path().join("copy.vbolt");
    let (status, err) = code(&["load", s(&dump_file), s(&copy)]);
    assert_eq!(status, 0, "{err}");
    // The copy dumps to the same lines, checks clean, and the program reads it.
    assert_eq!(ok(&["dump", s(&copy)]), dump);
    ok(&["check", s(&copy)]);
    let db = chat::open(&copy).unwrap();
    let n = db
        .view(|tx| Ok::<_, vbolt::Error>(vbolt::entries(tx, &chat::MESSAGES).count()))
        .unwrap();
    assert_eq!(n, 12);
    drop(db);
    // Loading never overwrites.
    let (status, err) = code(&["load", s(&dump_file), s(&copy)]);
    assert_ne!(status, 0);
    assert!(err.contains("exists"), "{err}");

    // Damage: bad hex on line 3, a cut line, keys out of order.
    let entry_line = lines
        .iter()
        .position(|l| l.starts_with("{\"key\""))
        .unwrap();
    let cases: Vec<(String, usize)> = vec![
        {
            let mut l = lines.clone();
            let broken = l[entry_line].replacen("\"key\":\"", "\"key\":\"zz", 1);
            l[entry_line] = &broken;
            (l.join("\n"), entry_line + 1)
        },
        {
            let cut = &lines[entry_line][..lines[entry_line].len() / 2];
            let mut l = lines.clone();
            l[entry_line] = cut;
            (l.join("\n"), entry_line + 1)
        },
        {
            let mut l = lines.clone();
            l.swap(entry_line, entry_line + 1);
            (l.join("\n"), entry_line + 2)
        },
    ];
    for (i, (text, line)) in cases.iter().enumerate() {
        let damaged = dir.path().join(format!("damaged-{i}.jsonl"));
        std::fs::write(&damaged, text).unwrap();
        let target = dir.path().join(format!("damaged-{i}.vbolt"));
        let (status, err) = code(&["load", s(&damaged), s(&target)]);
        assert_eq!(status, 4, "{err}");
        assert!(err.contains(&format!("line {line}:")), "case {i}: {err}");
        assert!(!target.exists(), "case {i}: a refused load left a file");
    }
}

#[test]
fn check_names_an_index_entry_whose_record_was_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_db(dir.path(), 2, 5);
    // The mistake: a message deleted without its index entry.
    let gone = {
        let db = chat::open(&path).unwrap();
        let mut tx = db.write_tx().unwrap();
        let (first, _) = vbolt::entries(&tx, &chat::MESSAGES)
            .next()
            .unwrap()
            .unwrap();
        vbolt::delete(&mut tx, &chat::MESSAGES, first);
        tx.commit().unwrap();
        first
    };
    let out = vbolt(&["check", s(&path)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let target: String = gone.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        stdout.contains("index:thread_messages")
            && stdout.contains(&format!(
                "target {target} (0x{target}) is not a key of bucket messages"
            )),
        "{stdout}"
    );
    assert!(stdout.contains("; 1 problem;"), "{stdout}");
}

#[test]
fn engine_check_finds_a_damaged_page_without_writing_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 40);
    // Change one message's text behind the engine's back. The text stays
    // valid, so only the page checksums can tell.
    let mut bytes = std::fs::read(&db).unwrap();
    let needle = b"message 17";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the message is in the file");
    bytes[at + 1] = b'a';
    std::fs::write(&db, &bytes).unwrap();

    let out = ok(&["check", s(&db), "--quick"]);
    assert!(out.contains("page checksums not verified"), "{out}");

    // By default the checksums are verified, and the damage is found.
    let out = vbolt(&["check", s(&db)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("engine: damage"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_slice(&vbolt(&["check", s(&db), "--engine", "--json"]).stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["engine_clean"], false);

    // The check ran on a copy: the file is as it was, and still opens.
    assert!(
        std::fs::read(&db).unwrap() == bytes,
        "the check wrote the file"
    );
    ok(&["info", s(&db)]);
    assert_eq!(ok(&["dump", s(&db), "users"]).lines().count(), 3);
}

/// Not a test on its own: the writer process of
/// `a_crashed_writers_file_is_refused_read_only_until_recovered`, which
/// commits one user and dies without closing the file.
#[test]
fn writer_that_aborts() {
    let Some(path) = std::env::var_os("VBOLT_CLI_ABORT_DB") else {
        return;
    };
    let db = chat::open(Path::new(&path)).unwrap();
    let mut tx = db.write_tx().unwrap();
    chat::create_user(&mut tx, "survivor", "Survivor").unwrap();
    tx.commit().unwrap();
    std::process::abort();
}

#[test]
fn a_crashed_writers_file_is_refused_read_only_until_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crashed.vbolt");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_that_aborts", "--nocapture"])
        .env("VBOLT_CLI_ABORT_DB", &db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the writer was meant to abort");

    let (code_, err) = code(&["info", s(&db)]);
    assert_eq!(code_, 3, "{err}");
    assert!(err.contains("vbolt recover"), "{err}");
    let out = ok(&["recover", s(&db)]);
    assert!(out.contains("recovered"), "{out}");
    // Nothing committed was lost, and the read commands work again.
    assert!(!ok(&["get", s(&db), "handles", "str:survivor"]).is_empty());
    ok(&["check", s(&db), "--engine"]);
}

#[test]
fn a_truncated_file_is_reported_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 200);
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    // The engine reads a length other than the recorded one as a file in
    // need of recovery: the read commands say so and point to `recover`,
    for args in [
        &["info", s(&db)][..],
        &["check", s(&db)],
        &["dump", s(&db), "users"],
    ] {
        let (code_, err) = code(args);
        assert_eq!(code_, 3, "{args:?}: {err}");
        assert!(err.contains("vbolt recover"), "{args:?}: {err}");
    }
    // which finds the damage, and neither changes the file.
    let (code_, err) = code(&["recover", s(&db)]);
    assert_eq!(code_, 3, "{err}");
    assert!(
        err.contains("damaged") && err.contains("truncated"),
        "{err}"
    );
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the file was changed"
    );
}

/// Appends `bytes` to the file at `path`.
fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_file_grown_by_zeros_is_recovered_with_its_data() {
    // A file can grow without its header knowing (a crash after the engine
    // extended it, a careless copy): its recorded length no longer matches.
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 200);
    let before = ok(&["dump", s(&db), "messages"]);
    append(&db, &vec![0u8; 1 << 20]);
    let (code_, err) = code(&["info", s(&db)]);
    assert_eq!(code_, 3, "{err}");
    assert!(err.contains("vbolt recover"), "{err}");
    ok(&["recover", s(&db)]);
    ok(&["check", "--engine", s(&db)]);
    assert_eq!(ok(&["dump", s(&db), "messages"]), before);
}

#[test]
fn a_file_grown_by_garbage_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 200);
    // Deterministic noise (xorshift), so a failure can be replayed.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    append(&db, &noise);
    let grown = std::fs::read(&db).unwrap();
    let (code_, err) = code(&["recover", s(&db)]);
    assert_eq!(code_, 3, "{err}");
    assert!(err.contains("damaged"), "{err}");
    assert!(std::fs::read(&db).unwrap() == grown, "the file was changed");
}

#[test]
fn backup_restore_and_compact_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 200);
    let backup = dir.path().join("chat.backup");
    let copy = dir.path().join("copy.vbolt");
    ok(&["backup", s(&db), s(&backup)]);
    ok(&["restore", s(&backup), s(&copy)]);
    for bucket in [
        "users",
        "handles",
        "threads",
        "messages",
        "index:thread_messages",
    ] {
        assert_eq!(
            ok(&["dump", s(&db), bucket]),
            ok(&["dump", s(&copy), bucket]),
            "{bucket}"
        );
    }
    // Backup to stdout, restore from stdin.
    let stream = Command::new(env!("CARGO_BIN_EXE_vbolt"))
        .args(["backup", s(&db), "-"])
        .output()
        .unwrap();
    assert!(stream.status.success());
    assert_eq!(stream.stdout, std::fs::read(&backup).unwrap());
    let piped = dir.path().join("piped.vbolt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vbolt"))
        .args(["restore", "-", s(&piped)])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &stream.stdout).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        ok(&["dump", s(&piped), "messages"]),
        ok(&["dump", s(&db), "messages"])
    );

    // Restoring over an existing file, or a damaged backup, fails (4).
    let (c, err) = code(&["restore", s(&backup), s(&copy)]);
    assert_eq!(c, 4, "{err}");
    let mut bad = std::fs::read(&backup).unwrap();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    let bad_path = dir.path().join("bad.backup");
    std::fs::write(&bad_path, bad).unwrap();
    let target = dir.path().join("never.vbolt");
    let (c, err) = code(&["restore", s(&bad_path), s(&target)]);
    assert_eq!(c, 4, "{err}");
    assert!(err.contains("checksum"), "{err}");
    assert!(!target.exists());

    let out = ok(&["compact", s(&copy), s(&dir.path().join("compact.vbolt"))]);
    assert!(out.contains("before:") && out.contains("after:"), "{out}");
    let out = ok(&["compact", s(&copy)]);
    assert!(out.contains("after:"), "{out}");
    ok(&["check", s(&copy)]);
}

#[test]
fn missing_foreign_and_locked_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.vbolt");
    let (c, err) = code(&["info", s(&missing)]);
    assert_eq!(c, 3);
    assert!(err.contains("no such file"), "{err}");
    assert!(!missing.exists(), "a read command created a file");

    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, "just some text, not a database\n".repeat(200)).unwrap();
    let (c, err) = code(&["keys", s(&foreign), "users"]);
    assert_eq!(c, 3, "{err}");
    assert!(err.contains("not a vbolt database"), "{err}");

    let db = chat_db(dir.path(), 2, 2);
    let held = vbolt::Db::open(&db).unwrap();
    let (c, err) = code(&["info", s(&db)]);
    assert_eq!(c, 3, "{err}");
    assert!(err.contains("in use by another process"), "{err}");
    assert!(
        err.contains("backup_to_path"),
        "the error says what to do: {err}"
    );
    drop(held);
    ok(&["info", s(&db)]);

    let (c, _) = code(&["frobnicate"]);
    assert_eq!(c, 2);
    let help = ok(&["--help"]);
    assert!(
        help.contains("Exit codes") && help.contains("Examples"),
        "{help}"
    );
}

#[test]
fn a_terminal_sees_a_progress_bar_and_a_pipe_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 5, 20_000);
    let bin = env!("CARGO_BIN_EXE_vbolt");
    // Piped: no bar, only the summary.
    let out = vbolt(&["backup", s(&db), s(&dir.path().join("piped.backup"))]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(!err.contains("backing up ["), "{err}");
    assert!(err.contains("backed up"), "{err}");
    // In a pseudo-terminal (util-linux `script`): the bar is drawn.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let cmd = format!(
        "{bin} backup {} {}",
        s(&db),
        s(&dir.path().join("tty.backup"))
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    let screen = text(&out.stdout);
    assert!(
        screen.contains("backing up ["),
        "no progress bar in: {screen:?}"
    );
    assert!(screen.contains("backed up"), "{screen:?}");
}

#[test]
fn check_names_a_table_the_program_does_not_declare() {
    let dir = tempfile::tempdir().unwrap();
    let path = chat_db(dir.path(), 2, 3);
    let v: serde_json::Value = serde_json::from_str(&ok(&["check", s(&path), "--json"])).unwrap();
    assert_eq!(v["declarations_recorded"], true);
    assert_eq!(v["undeclared"], serde_json::json!([]));
    // A bucket written by code that never declared it in chat::INFO.
    static FORGOTTEN: vbolt::Bucket<u64, String> =
        vbolt::Bucket::new("forgotten", vpack::key::fuint(), vpack::string);
    {
        let db = vbolt::Db::open(&path).unwrap();
        db.update(|tx| {
            vbolt::write(tx, &FORGOTTEN, 1, &mut "x".to_string());
            Ok::<_, vbolt::Error>(())
        })
        .unwrap();
    }
    let out = ok(&["check", s(&path)]);
    assert!(out.contains("bucket:forgotten: declared nowhere"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&ok(&["check", s(&path), "--json"])).unwrap();
    assert_eq!(v["undeclared"], serde_json::json!(["bucket:forgotten"]));
    assert_eq!(
        v["ok"], true,
        "an undeclared table is reported, not a failure"
    );
}

#[test]
fn damaged_files_give_vbolt_errors_without_panic_noise() {
    // The engine panics on some damaged pages; vbolt turns each panic into
    // an error, and the CLI printed the panic message above it in 0.2.
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(chat_db(dir.path(), 4, 200)).unwrap();
    let path = dir.path().join("damaged.vbolt");
    let (mut caught, mut runs) = (0, 0);
    let mut x = 0x2545_f491_u32;
    for _ in 0..60 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let mut bytes = good.clone();
        // A 64-byte run of garbage somewhere past the header page.
        let at = 4096 + (x as usize % (bytes.len() - 4096 - 64));
        for (i, b) in bytes[at..at + 64].iter_mut().enumerate() {
            *b ^= (x >> (i % 24)) as u8 | 1;
        }
        for cmd in [["check"], ["buckets"]] {
            std::fs::write(&path, &bytes).unwrap();
            let out = vbolt(&[cmd[0], s(&path)]);
            let err = text(&out.stderr);
            runs += 1;
            assert!(!err.contains("panicked"), "{cmd:?} at {at}: {err}");
            assert_ne!(out.status.code(), Some(101), "{cmd:?} at {at}: {err}");
            caught += usize::from(err.contains("storage engine failed"));
        }
    }
    println!("{runs} runs on damaged files, {caught} met an engine panic turned into an error");
}

#[test]
fn an_empty_file_is_never_made_into_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.vbolt");
    std::fs::write(&empty, b"").unwrap();
    for args in [
        vec!["info", s(&empty), "--space"],
        vec!["compact", s(&empty)],
        vec!["recover", s(&empty)],
        vec!["check", s(&empty)],
        vec!["keys", s(&empty), "users"],
    ] {
        let (c, err) = code(&args);
        assert_eq!(c, 3, "{args:?}: {err}");
        assert!(err.contains("is empty"), "{args:?}: {err}");
        assert_eq!(
            std::fs::metadata(&empty).unwrap().len(),
            0,
            "{args:?} wrote the file"
        );
    }
}

#[test]
fn values_show_in_the_format_asked_and_compact_reports_the_closed_size() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat_db(dir.path(), 3, 40);
    let key = ok(&["keys", s(&db), "handles", "--limit", "1"]);
    let key = key.trim();
    let hex = ok(&["get", s(&db), "handles", key, "--format", "hex"]);
    assert_eq!(hex.trim().len(), 32, "{hex}");
    assert!(hex.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    let auto = ok(&["get", s(&db), "handles", key]);
    assert_eq!(auto.trim(), format!("0x{}", hex.trim()));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["get", s(&db), "handles", key, "--format", "json"])).unwrap();
    assert_eq!(json["value"]["hex"], hex.trim());
    let dump = ok(&["dump", s(&db), "handles", "--format", "hex"]);
    assert!(dump.lines().all(|l| l.starts_with("str:user")), "{dump}");

    let out = ok(&["compact", s(&db)]);
    let after: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("after:"))
        .unwrap()
        .trim()
        .trim_end_matches(" bytes")
        .parse()
        .unwrap();
    assert_eq!(after, std::fs::metadata(&db).unwrap().len(), "{out}");
}

#[test]
fn info_shows_a_write_ahead_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logged.vbolt");
    let db = chat::open_with(&path, vbolt::Options::new().write_ahead_log_size(1 << 20)).unwrap();
    drop(db);
    let out = ok(&["info", s(&path)]);
    assert!(out.contains("logged.vbolt-wal"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&ok(&["info", s(&path), "--json"])).unwrap();
    assert!(
        v["write_ahead_log"]["size_bytes"].as_u64().unwrap() >= 1 << 20,
        "{v}"
    );
    let plain = chat_db(dir.path(), 1, 1);
    let v: serde_json::Value = serde_json::from_str(&ok(&["info", s(&plain), "--json"])).unwrap();
    assert!(v["write_ahead_log"].is_null(), "{v}");
}
