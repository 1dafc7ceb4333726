//! Indexes: every function, the edges of a byte-ordered layout (terms of
//! 0xFF bytes, negative priorities, never-written indexes), hostile
//! cursors, and a model-based property test against a plain in-memory
//! model.

mod backend;

use std::collections::BTreeMap;

use proptest::prelude::*;
use vbolt::*;

/// target u16 <- term u16, priority i32 (order-preserving, negatives allowed).
static IDX: Index<u16, u16, i32> = Index::with_priority(
    "idx",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);
/// Same shapes, another index: cursors must not cross.
static OTHER: Index<u16, u16, i32> = Index::with_priority(
    "other",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);
static WORDS: Index<String, u32> = Index::new("words", vpack::key::string_z(), vpack::key::fuint());
static NEVER: Index<u8, u32> = Index::new("never_written", vpack::key::byte(), vpack::key::fuint());

fn targets(tx: &impl Readable, term: u16, window: &Window) -> (Vec<u16>, Option<Cursor>) {
    let mut v = Vec::new();
    let c = read_term_targets(tx, &IDX, term, &mut v, window).unwrap();
    (v, c)
}

/// A reverse window of `limit` targets; 0 here means every target.
fn rev(limit: usize) -> Window {
    fwd(limit).reverse()
}

/// A forward window of `limit` targets; 0 here means every target.
fn fwd(limit: usize) -> Window {
    match limit {
        0 => Window::new(),
        n => Window::new().limit(n),
    }
}

#[test]
fn set_replace_move_and_delete_terms() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    set_target_terms(&mut tx, &IDX, 1, [(10u16, 5i32), (20, 5)]);
    set_target_terms(&mut tx, &IDX, 2, &BTreeMap::from([(10u16, 1i32)]));
    assert_eq!(targets(&tx, 10, &fwd(0)).0, [2, 1]);
    assert_eq!(read_term_count(&tx, &IDX, 10).unwrap(), 2);

    // Target 1: drop term 20, move term 10 to priority 0, add term 30.
    set_target_terms(&mut tx, &IDX, 1, [(10u16, 0i32), (30, 9)]);
    assert_eq!(targets(&tx, 10, &fwd(0)).0, [1, 2]);
    assert_eq!(targets(&tx, 20, &fwd(0)).0, Vec::<u16>::new());
    assert_eq!(read_term_count(&tx, &IDX, 20).unwrap(), 0);
    assert_eq!(targets(&tx, 30, &fwd(0)).0, [1]);
    let mut terms = Vec::new();
    iterate_target(&tx, &IDX, 1, |t, p| {
        terms.push((t, p));
        true
    })
    .unwrap();
    assert_eq!(terms, [(10, 0), (30, 9)]);

    delete_target_terms(&mut tx, &IDX, 1);
    assert_eq!(targets(&tx, 10, &fwd(0)).0, [2]);
    assert_eq!(read_term_count(&tx, &IDX, 30).unwrap(), 0);
    let mut all = Vec::new();
    iterate_all_terms(&tx, &IDX, |t, n| {
        all.push((t, n));
        true
    })
    .unwrap();
    assert_eq!(all, [(10, 1)], "counts that reach zero are removed");
    tx.commit().unwrap();
}

#[test]
fn duplicate_terms_keep_the_last_priority() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    set_target_terms(&mut tx, &IDX, 1, vec![(7u16, 3i32), (7, -4), (8, 1)]);
    let mut terms = Vec::new();
    iterate_target(&tx, &IDX, 1, |t, p| {
        terms.push((t, p));
        true
    })
    .unwrap();
    assert_eq!(terms, [(7, -4), (8, 1)]);
    assert_eq!(read_term_count(&tx, &IDX, 7).unwrap(), 1);
}

#[test]
fn helper_setters() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    set_target_terms_uniform(&mut tx, &IDX, 1, [3u16, 4], -7);
    set_target_terms_plain(&mut tx, &IDX, 2, [3u16]);
    set_target_single_term(&mut tx, &IDX, 3, 4);
    set_target_single_term_ext(&mut tx, &IDX, 4, 4, 100);
    let mut seen = Vec::new();
    iterate_term(&tx, &IDX, 4, &Window::default(), |t, p| {
        seen.push((t, p));
        true
    })
    .unwrap();
    assert_eq!(seen, [(1, -7), (3, 0), (4, 100)]);
    assert_eq!(targets(&tx, 3, &fwd(0)).0, [1, 2]);
    assert_eq!(first_target(&tx, &IDX, 4).unwrap(), Some(1));
    assert_eq!(first_target(&tx, &IDX, 99).unwrap(), None);
    // Replacing with a single term removes the others.
    set_target_single_term(&mut tx, &IDX, 1, 9);
    assert_eq!(targets(&tx, 3, &fwd(0)).0, [2]);
}

#[test]
fn string_terms_are_isolated_from_their_prefixes() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    set_target_terms_plain(&mut tx, &WORDS, 1, ["ab".to_string()]);
    set_target_terms_plain(&mut tx, &WORDS, 2, ["abc".to_string()]);
    set_target_terms_plain(&mut tx, &WORDS, 3, ["a".to_string()]);
    for (term, expect) in [("a", vec![3u32]), ("ab", vec![1]), ("abc", vec![2])] {
        for dir in [Direction::Forward, Direction::Reverse] {
            let mut v = Vec::new();
            read_term_targets(
                &tx,
                &WORDS,
                term.to_string(),
                &mut v,
                &Window::new().direction(dir),
            )
            .unwrap();
            assert_eq!(v, expect, "term {term} {dir:?}");
        }
    }
    // A term that cannot be packed as a key fails the transaction.
    set_target_terms_plain(&mut tx, &WORDS, 4, ["x\0y".to_string()]);
    assert!(tx.commit().is_err());
}

#[test]
fn reverse_walks_work_at_0xff_boundaries() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    // Terms and priorities whose encodings end in (or are all) 0xFF.
    for (target, term, prio) in [
        (1u16, 255u16, 1i32),
        (2, 255, -1),
        (3, 256, 0),
        (4, 0xFFFF, i32::MAX),
        (5, 0xFFFF, 5),
        (6, 254, 0),
    ] {
        set_target_single_term_ext(&mut tx, &IDX, target, term, prio);
    }
    set_target_single_term_ext(&mut tx, &IDX, 0xFFFF, 0xFFFF, i32::MAX);
    assert_eq!(targets(&tx, 255, &rev(0)).0, [1, 2]);
    assert_eq!(targets(&tx, 255, &fwd(0)).0, [2, 1]);
    assert_eq!(targets(&tx, 256, &rev(0)).0, [3]);
    assert_eq!(targets(&tx, 254, &rev(0)).0, [6]);
    assert_eq!(targets(&tx, 0xFFFF, &rev(0)).0, [0xFFFF, 4, 5]);
    assert_eq!(targets(&tx, 0xFFFF, &fwd(0)).0, [5, 4, 0xFFFF]);
    // Page through the all-0xFF term in reverse with cursors.
    let (p1, c1) = targets(&tx, 0xFFFF, &rev(1));
    let (p2, c2) = targets(&tx, 0xFFFF, &rev(1).cursor(c1));
    let (p3, c3) = targets(&tx, 0xFFFF, &rev(1).cursor(c2));
    assert_eq!((p1, p2, p3, c3), (vec![0xFFFF], vec![4], vec![5], None));
}

#[test]
fn negative_priorities_sort_before_positive_ones() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for (target, prio) in [(1u16, 5i32), (2, -5), (3, 0), (4, i32::MIN), (5, -1)] {
        set_target_single_term_ext(&mut tx, &IDX, target, 1, prio);
    }
    assert_eq!(targets(&tx, 1, &fwd(0)).0, [4, 2, 5, 3, 1]);
    assert_eq!(targets(&tx, 1, &rev(0)).0, [1, 3, 5, 2, 4]);
}

#[test]
fn an_index_never_written_reads_empty() {
    let db = backend::test_db();
    let tx = db.read_tx().unwrap();
    let mut v = Vec::new();
    assert_eq!(
        read_term_targets(&tx, &NEVER, 1, &mut v, &rev(10)).unwrap(),
        None
    );
    assert!(v.is_empty());
    assert_eq!(read_term_count(&tx, &NEVER, 1).unwrap(), 0);
    assert_eq!(first_target(&tx, &NEVER, 1).unwrap(), None);
    iterate_target(&tx, &NEVER, 1, |_, _| panic!("no terms")).unwrap();
    iterate_all_terms(&tx, &NEVER, |_, _| panic!("no terms")).unwrap();
    assert!(tx.error().is_none());
}

#[test]
fn windows_offset_limit_and_cursor_precedence() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for t in 1..=10u16 {
        set_target_single_term_ext(&mut tx, &IDX, t, 1, t as i32);
    }
    assert_eq!(targets(&tx, 1, &Window::new().offset(3).limit(2)).0, [4, 5]);
    assert_eq!(
        targets(&tx, 1, &Window::new().offset(3).limit(2).reverse()).0,
        [7, 6]
    );
    assert_eq!(targets(&tx, 1, &Window::new().offset(20)), (vec![], None));
    // The cursor returned is None exactly when nothing follows.
    assert!(targets(&tx, 1, &fwd(9)).1.is_some());
    assert!(targets(&tx, 1, &fwd(10)).1.is_none());
    assert!(
        targets(&tx, 1, &Window::new().offset(8).limit(2))
            .1
            .is_none()
    );
    // With a cursor, the offset is ignored.
    let (_, c) = targets(&tx, 1, &fwd(2));
    let (page, _) = targets(&tx, 1, &Window::new().cursor(c.clone()).offset(5).limit(2));
    assert_eq!(page, [3, 4]);
    // A forward cursor used in reverse walks back from the same position.
    let (page, _) = targets(&tx, 1, &rev(0).cursor(c));
    assert_eq!(page, [1]);
}

#[test]
fn iterate_term_stops_and_resumes() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for t in 1..=6u16 {
        set_target_single_term_ext(&mut tx, &IDX, t, 1, 0);
    }
    let mut seen = Vec::new();
    let c = iterate_term(&tx, &IDX, 1, &Window::default(), |t, _| {
        seen.push(t);
        t < 2
    })
    .unwrap();
    let c = iterate_term(&tx, &IDX, 1, &Window::new().cursor(c), |t, _| {
        seen.push(t);
        true
    })
    .unwrap();
    assert_eq!((seen, c), (vec![1, 2, 3, 4, 5, 6], None));
}

/// Reads a page, telling a refused cursor apart from a page.
fn try_targets(tx: &impl Readable, term: u16, window: &Window) -> Result<Vec<u16>, Error> {
    let mut v = Vec::new();
    read_term_targets(tx, &IDX, term, &mut v, window)?;
    Ok(v)
}

#[test]
fn cursors_that_do_not_belong_are_refused_with_a_distinct_error() {
    // On 0.2 each of these read an empty page that looked like the end.
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for t in 1..=5u16 {
        set_target_terms_uniform(&mut tx, &IDX, t, [1u16, 2], 0);
        set_target_terms_uniform(&mut tx, &OTHER, t, [1u16], 0);
    }
    let (_, c) = targets(&tx, 1, &fwd(2));
    let c = c.unwrap();
    let refused = |r: Result<Vec<u16>, Error>| match r {
        Err(e @ Error::InvalidCursor { .. }) => e.is_invalid_input(),
        other => panic!("expected InvalidCursor, got {other:?}"),
    };
    // The same cursor with another term of the same index.
    assert!(refused(try_targets(&tx, 2, &fwd(10).after(c.clone()))));
    // With the same term in another index.
    let mut v = Vec::new();
    let r = read_term_targets(&tx, &OTHER, 1, &mut v, &fwd(10).after(c.clone()));
    assert!(matches!(r, Err(Error::InvalidCursor { index: "other" })));
    assert!(v.is_empty());
    // Truncated into its head, or with a flipped head byte: refused.
    // Changes to the position itself stay within the term.
    let bytes = c.as_bytes().to_vec();
    for cut in 0..bytes.len() {
        let r = try_targets(&tx, 1, &fwd(10).after(Cursor::from_bytes(&bytes[..cut])));
        if cut < 9 {
            assert!(refused(r), "cut {cut}");
        } else {
            let page = r.unwrap();
            assert!(
                page.iter().all(|t| (1..=5).contains(t)),
                "cut {cut}: {page:?}"
            );
        }
    }
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            let r = try_targets(&tx, 1, &fwd(10).after(Cursor::from_bytes(&b)));
            if i < 9 {
                assert!(refused(r), "flipped head byte {i}");
            } else {
                assert!(r.unwrap().iter().all(|t| (1..=5).contains(t)));
            }
        }
    }
    // Garbage strings do not parse; random bytes are refused.
    assert!("%%%".parse::<Cursor>().is_err());
    assert!(refused(try_targets(
        &tx,
        1,
        &fwd(10).after(Cursor::from_bytes(&[0xFF; 40]))
    )));
    // A cursor survives its text form.
    let (_, c2) = targets(&tx, 1, &fwd(2));
    let text = c2.unwrap().to_string();
    let parsed: Cursor = text.parse().unwrap();
    assert_eq!(targets(&tx, 1, &fwd(10).after(parsed)).0, [3, 4, 5]);
}

#[test]
fn a_failed_transaction_leaves_pairs_and_counts_untouched() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    set_target_terms_plain(&mut tx, &WORDS, 1, ["a".to_string()]);
    tx.commit().unwrap();
    let mut tx = db.write_tx().unwrap();
    set_target_terms_plain(&mut tx, &WORDS, 2, ["a".to_string()]);
    set_target_terms_plain(&mut tx, &WORDS, 3, ["bad\0".to_string()]);
    assert!(tx.commit().is_err());
    let tx = db.read_tx().unwrap();
    assert_eq!(read_term_count(&tx, &WORDS, "a".to_string()).unwrap(), 1);
    let mut v = Vec::new();
    read_term_targets(&tx, &WORDS, "a".to_string(), &mut v, &Window::default()).unwrap();
    assert_eq!(v, [1]);
}

// ---- model-based property test -------------------------------------------

const TARGETS: [u16; 6] = [1, 2, 255, 256, 257, 0xFFFF];
const TERMS: [u16; 5] = [0, 1, 255, 256, 0xFFFF];
const PRIOS: [i32; 6] = [i32::MIN, -256, -1, 0, 255, 256];

#[derive(Debug, Clone)]
enum Op {
    Set(u16, Vec<(u16, i32)>),
    Uniform(u16, Vec<u16>, i32),
    Single(u16, u16, i32),
    Delete(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let target = prop::sample::select(&TARGETS[..]);
    let term = prop::sample::select(&TERMS[..]);
    let prio = prop::sample::select(&PRIOS[..]);
    prop_oneof![
        3 => (target.clone(), prop::collection::vec((term.clone(), prio.clone()), 0..5)).prop_map(|(t, v)| Op::Set(t, v)),
        1 => (target.clone(), prop::collection::vec(term.clone(), 0..4), prio.clone()).prop_map(|(t, v, p)| Op::Uniform(t, v, p)),
        1 => (target.clone(), term, prio).prop_map(|(t, x, p)| Op::Single(t, x, p)),
        1 => target.prop_map(Op::Delete),
    ]
}

type Model = BTreeMap<u16, BTreeMap<u16, i32>>;

fn apply(tx: &mut WriteTx, model: &mut Model, op: &Op) {
    let terms: BTreeMap<u16, i32> = match op {
        Op::Set(t, v) => {
            set_target_terms(tx, &IDX, t, v.clone());
            v.iter().copied().collect() // later duplicates win, as in the index
        }
        Op::Uniform(t, v, p) => {
            set_target_terms_uniform(tx, &IDX, t, v, *p);
            v.iter().map(|x| (*x, *p)).collect()
        }
        Op::Single(t, x, p) => {
            set_target_single_term_ext(tx, &IDX, t, x, *p);
            BTreeMap::from([(*x, *p)])
        }
        Op::Delete(t) => {
            delete_target_terms(tx, &IDX, t);
            BTreeMap::new()
        }
    };
    let target = match op {
        Op::Set(t, _) | Op::Uniform(t, _, _) | Op::Single(t, _, _) | Op::Delete(t) => *t,
    };
    if terms.is_empty() {
        model.remove(&target);
    } else {
        model.insert(target, terms);
    }
}

/// The term's targets in forward order according to the model.
fn expected(model: &Model, term: u16) -> Vec<(u16, i32)> {
    let mut v: Vec<(i32, u16)> = model
        .iter()
        .filter_map(|(target, terms)| terms.get(&term).map(|p| (*p, *target)))
        .collect();
    v.sort();
    v.into_iter().map(|(p, t)| (t, p)).collect()
}

fn walk_all(tx: &impl Readable, term: u16, limit: usize, direction: Direction) -> Vec<u16> {
    let mut out = Vec::new();
    let mut window = Window::new().limit(limit).direction(direction);
    for _ in 0..100 {
        let mut page = Vec::new();
        let next = read_term_targets(tx, &IDX, term, &mut page, &window).unwrap();
        assert!(page.len() <= limit, "page larger than its limit");
        if next.is_some() {
            assert_eq!(page.len(), limit, "a short page claimed more follows");
        }
        out.extend(page);
        match next {
            Some(c) => window = window.after(c),
            None => return out,
        }
    }
    panic!("cursor walk did not end");
}

fn check(
    tx: &impl Readable,
    model: &Model,
    limit: usize,
    offset: usize,
) -> Result<(), TestCaseError> {
    let mut live_terms = BTreeMap::new();
    for term in TERMS {
        let exp = expected(model, term);
        let exp_targets: Vec<u16> = exp.iter().map(|(t, _)| *t).collect();
        let mut exp_rev = exp_targets.clone();
        exp_rev.reverse();
        let (all, c) = targets(tx, term, &Window::default());
        prop_assert_eq!(&all, &exp_targets);
        prop_assert!(c.is_none());
        prop_assert_eq!(&targets(tx, term, &rev(0)).0, &exp_rev);
        prop_assert_eq!(read_term_count(tx, &IDX, term).unwrap(), exp.len());
        let mut with_prio = Vec::new();
        iterate_term(tx, &IDX, term, &Window::default(), |t, p| {
            with_prio.push((t, p));
            true
        })
        .unwrap();
        prop_assert_eq!(&with_prio, &exp);
        prop_assert_eq!(
            first_target(tx, &IDX, term).unwrap(),
            exp.first().map(|(t, _)| *t)
        );
        // A random window, both directions.
        for (dir, list) in [
            (Direction::Forward, &exp_targets),
            (Direction::Reverse, &exp_rev),
        ] {
            let w = Window::new().limit(limit).offset(offset).direction(dir);
            let (page, next) = targets(tx, term, &w);
            let want: Vec<u16> = list
                .iter()
                .skip(offset)
                .take(limit) // a limit of 0 reads nothing
                .copied()
                .collect();
            prop_assert_eq!(&page, &want);
            prop_assert_eq!(next.is_some(), offset + limit < list.len());
            // The cursor continues right after what the window consumed,
            // even when it returned nothing.
            if let Some(c) = next {
                let rest = targets(tx, term, &Window::new().direction(dir).after(c)).0;
                prop_assert_eq!(&rest[..], &list[offset + limit..]);
            }
            // Complete cursor walks.
            let step = limit.max(1);
            prop_assert_eq!(&walk_all(tx, term, step, dir), list);
        }
        if !exp.is_empty() {
            live_terms.insert(term, exp.len());
        }
    }
    for target in TARGETS {
        let mut got = Vec::new();
        iterate_target(tx, &IDX, target, |t, p| {
            got.push((t, p));
            true
        })
        .unwrap();
        let want: Vec<(u16, i32)> = model
            .get(&target)
            .map(|m| m.iter().map(|(a, b)| (*a, *b)).collect())
            .unwrap_or_default();
        prop_assert_eq!(got, want);
    }
    let mut all_terms = BTreeMap::new();
    iterate_all_terms(tx, &IDX, |t, n| {
        all_terms.insert(t, n);
        true
    })
    .unwrap();
    prop_assert_eq!(all_terms, live_terms);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn index_matches_the_model(ops in prop::collection::vec(op(), 1..25), limit in 0usize..4, offset in 0usize..4) {
        let db = backend::test_db();
        let mut model = Model::new();
        let mut tx = db.write_tx().unwrap();
        for (i, op) in ops.iter().enumerate() {
            apply(&mut tx, &mut model, op);
            check(&tx, &model, limit, offset)?;
            if i % 5 == 4 {
                tx.commit().unwrap();
                tx = db.write_tx().unwrap();
            }
        }
        tx.commit().unwrap();
        let rtx = db.read_tx().unwrap();
        check(&rtx, &model, limit, offset)?;
    }

    /// Keyset pagination: targets present for the whole walk are returned
    /// exactly once, in order, while others are added and removed between
    /// pages. (A target whose priority *moves* mid-walk may legitimately be
    /// seen at both positions; churn here only adds and removes.)
    #[test]
    fn cursor_walks_survive_concurrent_changes(churn in prop::collection::vec((prop::sample::select(&TARGETS[..]), prop::sample::select(&PRIOS[..]), any::<bool>()), 1..12),
                                              limit in 1usize..3, reverse in any::<bool>()) {
        const TERM: u16 = 256;
        let db = backend::test_db();
        let mut tx = db.write_tx().unwrap();
        // Stable targets: 10..20 with fixed priorities.
        for t in 10u16..20 {
            set_target_single_term_ext(&mut tx, &IDX, t, TERM, (t as i32 - 15) * 100);
        }
        tx.commit().unwrap();
        let direction = if reverse { Direction::Reverse } else { Direction::Forward };
        let mut window = Window::new().limit(limit).direction(direction);
        let mut seen = Vec::new();
        let mut churn = churn.into_iter();
        loop {
            let rtx = db.read_tx().unwrap();
            let mut page = Vec::new();
            let next = read_term_targets(&rtx, &IDX, TERM, &mut page, &window).unwrap();
            seen.extend(page);
            drop(rtx);
            if let Some((t, p, add)) = churn.next() {
                let mut tx = db.write_tx().unwrap();
                let mut present = false;
                iterate_target(&tx, &IDX, t, |_, _| { present = true; false }).unwrap();
                if add && !present {
                    set_target_single_term_ext(&mut tx, &IDX, t, TERM, p);
                } else if !add {
                    delete_target_terms(&mut tx, &IDX, t);
                }
                tx.commit().unwrap();
            }
            match next {
                Some(c) => window = window.after(c),
                None => break,
            }
        }
        let stable: Vec<u16> = seen.iter().copied().filter(|t| (10..20).contains(t)).collect();
        let mut want: Vec<u16> = (10..20).collect();
        if reverse { want.reverse(); }
        prop_assert_eq!(stable, want);
    }
}

#[test]
fn priorities_without_default_such_as_times_are_readable() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    static BY_TIME: Index<u8, u32, SystemTime> = Index::with_priority(
        "by_time",
        vpack::key::byte(),
        vpack::key::fuint(),
        vpack::key::unix_time_ord(),
    );
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    let t = |s: i64| {
        if s >= 0 {
            UNIX_EPOCH + Duration::from_secs(s as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(s.unsigned_abs())
        }
    };
    for (target, secs) in [(1u32, 100i64), (2, -100), (3, 0), (4, -1_000_000_000)] {
        set_target_single_term_ext(&mut tx, &BY_TIME, target, 7, t(secs));
    }
    let mut v = Vec::new();
    read_term_targets(&tx, &BY_TIME, 7, &mut v, &Window::default()).unwrap();
    assert_eq!(v, [4, 2, 3, 1], "pre-1970 times sort first");
    assert_eq!(first_target(&tx, &BY_TIME, 7).unwrap(), Some(4));
}

static PREFETCHED: Index<String, u64> =
    Index::new("prefetched", vpack::key::string_z(), vpack::key::fuint());

fn terms_of(tx: &ReadTx, target: u64) -> Vec<String> {
    target_terms(tx, &PREFETCHED, target)
        .map(|r| r.map(|(term, _)| term))
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn prefetched_targets_and_terms_set_exactly_what_unprefetched_ones_do() {
    let db = backend::test_db();
    db.update(|tx| {
        for t in 1..=20u64 {
            set_target_terms_plain(
                tx,
                &PREFETCHED,
                t,
                [format!("a{}", t % 3), format!("b{}", t % 5)],
            );
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    db.update(|tx| {
        // Stored targets, new ones, a target changed twice after the
        // prefetch (its scans merge this transaction's changes over the
        // prefetched snapshot), and the zero target (skipped).
        prefetch_targets(tx, &PREFETCHED, (0..=30u64).rev());
        prefetch_terms(tx, &PREFETCHED, ["c0", "c1", "a0", "", "x", "c1"]);
        set_target_terms_plain(tx, &PREFETCHED, 5, ["x"]);
        set_target_terms_plain(tx, &PREFETCHED, 5, ["x", "y"]);
        for t in (1..=30u64).filter(|t| *t != 5) {
            set_target_terms_plain(tx, &PREFETCHED, t, [format!("c{}", t % 4)]);
        }
        delete_target_terms(tx, &PREFETCHED, 7);
        Ok::<_, Error>(())
    })
    .unwrap();
    let tx = db.read_tx().unwrap();
    assert_eq!(terms_of(&tx, 5), ["x", "y"]);
    assert_eq!(terms_of(&tx, 7), [] as [String; 0]);
    for t in (1..=30u64).filter(|t| ![5, 7].contains(t)) {
        assert_eq!(terms_of(&tx, t), [format!("c{}", t % 4)], "target {t}");
    }
    for (term, n) in [
        ("c0", 7),
        ("c1", 7),
        ("c2", 8),
        ("c3", 6),
        ("a0", 0),
        ("x", 1),
    ] {
        assert_eq!(
            read_term_count(&tx, &PREFETCHED, term).unwrap(),
            n,
            "{term}"
        );
    }
    drop(tx);
    assert!(vbolt::check(&db).unwrap().is_ok());
}
