//! Types with derived pack functions in buckets and indexes: as values, as
//! keys (a newtype with an order-preserving encoding), and as priorities;
//! and schema evolution of stored records through `since`.

mod backend;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vbolt::*;
use vpack::{Pack, PackKey, key};

/// A key that sorts by time (whole seconds).
#[derive(PackKey, Pack, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct OrderedTime(
    #[pack_key(with = key::unix_time_ord())]
    #[pack(with = vpack::unix_time_ord)]
    SystemTime,
);

#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
struct EventV1 {
    title: String,
    at: SystemTime,
}

#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 2)]
struct Event {
    title: String,
    at: SystemTime,
    #[pack(since = 2, default = 1)]
    seats: u32,
}

static EVENTS_V1: Bucket<OrderedTime, EventV1> =
    Bucket::new("events", key::ordered(), EventV1::pack);
static EVENTS: Bucket<OrderedTime, Event> = Bucket::new("events", key::ordered(), Event::pack);
/// Term: a room. Target: an event key. Priority: the start, as a key
/// encoding (so a window walks them in time order).
static ROOM_EVENTS: Index<String, OrderedTime, OrderedTime> = Index::with_priority(
    "room_events",
    vpack::key::string_z(),
    key::ordered(),
    key::ordered(),
);

fn at(secs: i64) -> OrderedTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    OrderedTime(if secs < 0 {
        UNIX_EPOCH - d
    } else {
        UNIX_EPOCH + d
    })
}

#[test]
fn derived_keys_iterate_in_time_order_and_old_records_read_as_new_ones() -> Result<(), Error> {
    let db = backend::test_db();
    // Written by the version 1 program, before and after 1970.
    db.update(|tx| {
        for s in [300, -20, 7] {
            let mut e = EventV1 {
                title: format!("at {s}"),
                at: at(s).0,
            };
            write(tx, &EVENTS_V1, at(s), &mut e);
        }
        Ok::<_, Error>(())
    })?;
    // Read by the version 2 program: in time order, the new field at its
    // declared default.
    let events: Vec<(OrderedTime, Event)> = db.view(|tx| entries(tx, &EVENTS).collect())?;
    let keys: Vec<OrderedTime> = events.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, [at(-20), at(7), at(300)]);
    assert!(events.iter().all(|(k, e)| e.seats == 1 && e.at == k.0));
    // Version 1 code refuses what version 2 writes, naming the bucket.
    db.update(|tx| {
        write(
            tx,
            &EVENTS,
            at(9),
            &mut Event {
                title: "new".into(),
                at: at(9).0,
                seats: 40,
            },
        );
        Ok::<_, Error>(())
    })?;
    let err = db.view(|tx| get(tx, &EVENTS_V1, at(9))).unwrap_err();
    assert!(err.to_string().contains("events"), "{err}");
    assert!(err.to_string().contains("version 2"), "{err}");
    Ok(())
}

#[test]
fn derived_priorities_order_an_index_term() -> Result<(), Error> {
    let db = backend::test_db();
    db.update(|tx| {
        for s in [50, -5, 10] {
            set_target_single_term_ext(tx, &ROOM_EVENTS, at(s), "hall".to_string(), at(s));
        }
        Ok::<_, Error>(())
    })?;
    let mut targets = Vec::new();
    db.view(|tx| {
        read_term_targets(
            tx,
            &ROOM_EVENTS,
            "hall".to_string(),
            &mut targets,
            &Window::new(),
        )
    })?;
    assert_eq!(targets, [at(-5), at(10), at(50)]);
    Ok(())
}
