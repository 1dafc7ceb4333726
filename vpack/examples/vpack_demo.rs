//! A tour of vpack: one pack function per type, used both ways, with a
//! version bump and key ordering.
//!
//! Run: `cargo run -p vpack --example vpack_demo`

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq)]
struct Message {
    id: i64,
    sender: String,
    sent_at: SystemTime,
    tags: Vec<String>,
}

impl Default for Message {
    fn default() -> Self {
        Message {
            id: 0,
            sender: String::new(),
            sent_at: UNIX_EPOCH,
            tags: Vec::new(),
        }
    }
}

fn pack_message(m: &mut Message, buf: &mut vpack::Buffer) {
    let version = vpack::version(2, buf);
    vpack::int(&mut m.id, buf);
    vpack::string(&mut m.sender, buf);
    vpack::unix_time(&mut m.sent_at, buf);
    if version >= 2 {
        vpack::vec(&mut m.tags, buf, vpack::string);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> Result<(), vpack::Error> {
    let mut msg = Message {
        id: 42,
        sender: "ann".into(),
        sent_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        tags: vec!["hello".into(), "intro".into()],
    };
    let bytes = vpack::to_bytes(&mut msg, pack_message)?;
    println!("message packs to {} bytes: {}", bytes.len(), hex(&bytes));
    let back: Message = vpack::from_bytes(&bytes, pack_message)?;
    println!("and unpacks to {back:?}");
    assert_eq!(back, msg);

    let err = vpack::from_bytes::<Message>(&bytes[..bytes.len() - 3], pack_message).unwrap_err();
    println!("truncated input is an error, never garbage: {err}");

    println!("keys sort by their bytes; fint_ord keeps negative ids in order:");
    let mut ids = [5i64, -3, 0, -100, 77];
    let mut keys: Vec<(Vec<u8>, i64)> = ids
        .iter_mut()
        .map(|id| (vpack::to_bytes(id, vpack::fint_ord).unwrap(), *id))
        .collect();
    keys.sort();
    for (key, id) in keys {
        println!("  {:>4} -> {}", id, hex(&key));
    }
    Ok(())
}
