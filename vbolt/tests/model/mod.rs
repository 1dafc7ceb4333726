//! An interpreter of random byte strings as vbolt operations, checked
//! against an in-memory model after every step. Shared by the deterministic
//! test (`tests/model_ops.rs`) and the fuzz targets (`fuzz/`), which include
//! this file by path.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use vbolt::*;

static ITEMS: Bucket<u16, Vec<u8>> = Bucket::new("items", vpack::key::fuint(), vpack::bytes);
static TAGS: Index<u8, u16, u16> = Index::new("item_tags", vpack::key::byte(), vpack::key::fuint());

/// The model: items, and each item's tags with priorities.
#[derive(Default, Clone)]
struct Model {
    items: BTreeMap<u16, Vec<u8>>,
    tags: BTreeMap<u16, BTreeMap<u8, u16>>,
}

impl Model {
    /// (priority, target) pairs of a tag, in index order.
    fn term(&self, tag: u8) -> Vec<(u16, u16)> {
        let mut v: Vec<(u16, u16)> = self
            .tags
            .iter()
            .filter_map(|(t, m)| m.get(&tag).map(|p| (*p, *t)))
            .collect();
        v.sort();
        v
    }
}

/// Reads bytes of the input; runs out as zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// Runs the operations encoded in `data` on a new in-memory database;
/// panics on any disagreement between vbolt and the model.
pub fn run(data: &[u8]) {
    run_on(&Db::in_memory().unwrap(), data);
}

/// [`run`] on `db`, which must be empty.
pub fn run_on(db: &Db, data: &[u8]) {
    let mut committed = Model::default();
    let mut input = Input(data);
    let mut steps = 0;
    while !input.done() && steps < 200 {
        steps += 1;
        // One write transaction of a few operations, committed or dropped.
        let mut tx = db.write_tx().unwrap();
        let mut model = committed.clone();
        for _ in 0..(input.byte() % 8) {
            let id = input.u16() % 64 + 1; // small ids: collisions
            match input.byte() % 4 {
                0 => {
                    let mut v = vec![input.byte(); (input.byte() % 32) as usize];
                    write(&mut tx, &ITEMS, id, &mut v);
                    model.items.insert(id, v);
                }
                1 => {
                    delete(&mut tx, &ITEMS, id);
                    model.items.remove(&id);
                }
                2 => {
                    let terms: BTreeMap<u8, u16> = (0..input.byte() % 4)
                        .map(|_| (input.byte() % 8, input.u16() % 5))
                        .collect();
                    set_target_terms(&mut tx, &TAGS, id, &terms);
                    if terms.is_empty() {
                        model.tags.remove(&id);
                    } else {
                        model.tags.insert(id, terms);
                    }
                }
                _ => {
                    delete_target_terms(&mut tx, &TAGS, id);
                    model.tags.remove(&id);
                }
            }
        }
        if input.byte() % 4 == 0 {
            drop(tx); // rolled back: the model keeps the committed state
        } else {
            tx.commit().unwrap();
            committed = model;
        }
        verify(db, &committed, &mut input);
    }
}

fn verify(db: &Db, model: &Model, input: &mut Input) {
    let tx = db.read_tx().unwrap();
    let mut items = BTreeMap::new();
    iterate_all(&tx, &ITEMS, |k, v| {
        items.insert(k, v);
        true
    })
    .unwrap();
    assert_eq!(items, model.items, "bucket contents");
    for tag in 0..8u8 {
        let expected = model.term(tag);
        assert_eq!(
            read_term_count(&tx, &TAGS, tag).unwrap(),
            expected.len(),
            "count of {tag}"
        );
        // Page through with a random window; pages must tile the term.
        let limit = (input.byte() % 5) as usize + 1;
        let reverse = input.byte() % 2 == 1;
        let mut window = Window::new().limit(limit).direction(if reverse {
            Direction::Reverse
        } else {
            Direction::Forward
        });
        let mut seen = Vec::new();
        for _ in 0..=expected.len() {
            let mut page = Vec::new();
            let next = read_term_targets(&tx, &TAGS, tag, &mut page, &window).unwrap();
            seen.extend(page);
            match next {
                Some(c) => window = window.after(c),
                None => break,
            }
        }
        let mut want: Vec<u16> = expected.iter().map(|(_, t)| *t).collect();
        if reverse {
            want.reverse();
        }
        assert_eq!(seen, want, "pages of tag {tag}");
    }
    for (id, terms) in &model.tags {
        let mut got = BTreeMap::new();
        iterate_target(&tx, &TAGS, id, |t, p| {
            got.insert(t, p);
            true
        })
        .unwrap();
        assert_eq!(&got, terms, "terms of {id}");
    }
    let report = check(db).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// The small index [`hostile_cursor`] reads: item `id` has tag `id % 3`.
pub fn cursor_db() -> Db {
    let db = Db::in_memory().unwrap();
    let mut tx = db.write_tx().unwrap();
    for id in 1..=20u16 {
        set_target_terms_uniform(&mut tx, &TAGS, id, [(id % 3) as u8], id % 4);
    }
    tx.commit().unwrap();
    db
}

/// Parses `data` as a cursor (text and bytes) and uses it on the index of
/// [`cursor_db`]: it may be refused or read nothing, but never panic, and it
/// must never return a target of another term.
pub fn hostile_cursor(db: &Db, data: &[u8]) {
    let tx = db.read_tx().unwrap();
    let mut cursors = vec![Cursor::from_bytes(data)];
    if let Ok(c) = Cursor::from_str(&String::from_utf8_lossy(data)) {
        let _ = c.to_string();
        cursors.push(c);
    }
    for cursor in cursors {
        for tag in 0..3u8 {
            for direction in [Direction::Forward, Direction::Reverse] {
                let window = Window::new()
                    .limit(5)
                    .offset(0)
                    .after(cursor.clone())
                    .direction(direction);
                let mut page = Vec::new();
                // A cursor that does not belong is refused; one that passes
                // the check stays inside its term.
                match read_term_targets(&tx, &TAGS, tag, &mut page, &window) {
                    Ok(_) => {}
                    Err(Error::InvalidCursor { .. }) => assert!(page.is_empty()),
                    Err(e) => panic!("tag {tag}: {e}"),
                }
                let allowed: BTreeSet<u16> = (1..=20).filter(|id| (id % 3) as u8 == tag).collect();
                assert!(
                    page.iter().all(|t| allowed.contains(t)),
                    "tag {tag}: {page:?}"
                );
                assert!(page.len() <= 5);
            }
        }
    }
}
