//! The iterators against a model: every range, both ends interleaved,
//! across chunk boundaries, in read and write transactions; and against the
//! callback forms they stand beside.

mod backend;

use std::collections::BTreeMap;

use proptest::prelude::*;
use vbolt::*;

static NUMS: Bucket<u32, u32> = Bucket::new("nums", vpack::key::fuint(), vpack::uint);
static IDX: Index<u16, u32, i32> = Index::with_priority(
    "idx",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);

fn filled(keys: &[u32]) -> Db {
    let db = backend::test_db();
    db.update(|tx| {
        for &k in keys {
            write(tx, &NUMS, k, &mut k.wrapping_mul(3));
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    db
}

/// Takes from the front (`true`) or the back per `steps`, then drains the
/// front; returns the keys in the order met.
fn walk(
    mut it: impl DoubleEndedIterator<Item = Result<(u32, u32), Error>>,
    steps: &[bool],
) -> (Vec<u32>, Vec<u32>) {
    let (mut front, mut back) = (Vec::new(), Vec::new());
    for &from_front in steps {
        let next = if from_front {
            it.next()
        } else {
            it.next_back()
        };
        match next {
            Some(Ok((k, v))) => {
                assert_eq!(v, k.wrapping_mul(3));
                if from_front {
                    front.push(k)
                } else {
                    back.push(k)
                }
            }
            Some(Err(e)) => panic!("{e}"),
            None => break,
        }
    }
    for e in it {
        front.push(e.unwrap().0);
    }
    (front, back)
}

/// The model checks of bucket walks, on one transaction.
fn entries_match_the_model(
    tx: &impl Readable,
    keys: &[u32],
    lo: u32,
    hi: u32,
    steps: &[bool],
) -> Result<(), TestCaseError> {
    let model: BTreeMap<u32, u32> = keys.iter().map(|&k| (k, k * 3)).collect();
    let want: Vec<u32> = model.range(lo..hi).map(|(k, _)| *k).collect();

    // Front and back interleaved meet exactly once, with nothing lost.
    let (front, mut back) = walk(entries_in(tx, &NUMS, lo..hi), steps);
    back.reverse();
    let mut met = front.clone();
    met.extend(back);
    met.sort();
    prop_assert_eq!(&met, &want);
    prop_assert!(front.windows(2).all(|w| w[0] < w[1]));

    let all: Vec<u32> = entries(tx, &NUMS).map(|e| e.unwrap().0).collect();
    prop_assert_eq!(&all, keys);
    let rev: Vec<u32> = entries(tx, &NUMS).rev().map(|e| e.unwrap().0).collect();
    prop_assert_eq!(rev, keys.iter().rev().copied().collect::<Vec<_>>());
    let incl: Vec<u32> = entries_in(tx, &NUMS, lo..=hi)
        .map(|e| e.unwrap().0)
        .collect();
    prop_assert_eq!(
        incl,
        model.range(lo..=hi).map(|(k, _)| *k).collect::<Vec<_>>()
    );
    // The callback form agrees.
    let mut cb = Vec::new();
    iterate_all(tx, &NUMS, |k, _| {
        cb.push(k);
        true
    })
    .unwrap();
    prop_assert_eq!(&cb, keys);
    Ok(())
}

/// The term iterators against their callback forms, on one transaction.
fn term_iterators_match(tx: &impl Readable, window: &Window) -> Result<(), TestCaseError> {
    for term in 0..4u16 {
        let mut cb = Vec::new();
        iterate_term(tx, &IDX, term, window, |k, p| {
            cb.push((k, p));
            true
        })
        .unwrap();
        let it: Vec<(u32, i32)> = term_targets(tx, &IDX, term, window)
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(it, cb);
    }
    let mut cb = Vec::new();
    iterate_all_terms(tx, &IDX, |t, n| {
        cb.push((t, n));
        true
    })
    .unwrap();
    let it: Vec<(u16, usize)> = terms(tx, &IDX).collect::<Result<_, _>>().unwrap();
    prop_assert_eq!(&it, &cb);
    let back: Vec<(u16, usize)> = terms(tx, &IDX).rev().collect::<Result<_, _>>().unwrap();
    prop_assert_eq!(back, cb.iter().rev().copied().collect::<Vec<_>>());
    for target in [1u32, 50, 399] {
        let mut cb = Vec::new();
        iterate_target(tx, &IDX, target, |t, p| {
            cb.push((t, p));
            true
        })
        .unwrap();
        let it: Vec<(u16, i32)> = target_terms(tx, &IDX, target)
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(it, cb);
    }
    Ok(())
}

// Each check runs in a read transaction and in a write transaction: the
// engine reads a snapshot's tables and the writer's own tables by
// different paths.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn entries_and_ranges_match_the_model(
        keys in prop::collection::btree_set(1u32..2000, 0..700),
        lo in 0u32..2100,
        len in 0u32..2100,
        steps in prop::collection::vec(any::<bool>(), 0..800),
    ) {
        let keys: Vec<u32> = keys.into_iter().collect();
        let db = filled(&keys);
        let hi = lo.saturating_add(len);
        entries_match_the_model(&db.read_tx().unwrap(), &keys, lo, hi, &steps)?;
        entries_match_the_model(&db.write_tx().unwrap(), &keys, lo, hi, &steps)?;
    }

    #[test]
    fn term_iterators_match_their_callback_forms(
        pairs in prop::collection::vec((1u32..400, 0u16..4, -3i32..3), 0..600),
        limit in 0usize..50,
        offset in 0usize..30,
        reverse in any::<bool>(),
    ) {
        let db = backend::test_db();
        db.update(|tx| {
            let mut by_target: BTreeMap<u32, BTreeMap<u16, i32>> = BTreeMap::new();
            for (target, term, prio) in &pairs {
                by_target.entry(*target).or_default().insert(*term, *prio);
            }
            for (target, terms) in &by_target {
                set_target_terms(tx, &IDX, target, terms);
            }
            Ok::<_, Error>(())
        })
        .unwrap();
        let mut window = Window::new().limit(limit).offset(offset);
        if reverse {
            window = window.reverse();
        }
        term_iterators_match(&db.read_tx().unwrap(), &window)?;
        term_iterators_match(&db.write_tx().unwrap(), &window)?;
    }
}

#[test]
fn a_cursor_continues_where_a_page_ended() {
    let db = backend::test_db();
    let mut tx = db.write_tx().unwrap();
    for t in 1..=700u32 {
        set_target_single_term_ext(&mut tx, &IDX, t, 1, (t % 7) as i32);
    }
    let mut page = Vec::new();
    let next = read_term_targets(&tx, &IDX, 1, &mut page, &Window::new().limit(300)).unwrap();
    let rest: Vec<u32> = term_targets(&tx, &IDX, 1, &Window::new().after(next.unwrap()))
        .map(|e| e.unwrap().0)
        .collect();
    page.extend(rest);
    let mut all = Vec::new();
    read_term_targets(&tx, &IDX, 1, &mut all, &Window::new()).unwrap();
    assert_eq!(page, all);
    assert_eq!(all.len(), 700);
    // A foreign cursor is an error item, then the end.
    let mut foreign = term_targets(&tx, &IDX, 2, &Window::new().after(Cursor::from_bytes(b"x")));
    assert!(matches!(
        foreign.next(),
        Some(Err(Error::InvalidCursor { .. }))
    ));
    assert!(foreign.next().is_none());
    // Even for a page of nothing, as the callback form reports it.
    let none = Window::new().limit(0).after(Cursor::from_bytes(b"x"));
    assert!(matches!(
        iterate_term(&tx, &IDX, 2, &none, |_, _| true),
        Err(Error::InvalidCursor { .. })
    ));
    let mut foreign = term_targets(&tx, &IDX, 2, &none);
    assert!(matches!(
        foreign.next(),
        Some(Err(Error::InvalidCursor { .. }))
    ));
    assert!(foreign.next().is_none());
    // A valid limit of 0 reads nothing.
    assert!(
        term_targets(&tx, &IDX, 1, &Window::new().limit(0))
            .next()
            .is_none()
    );
}

#[test]
fn an_undecodable_entry_is_yielded_as_an_error_and_ends_the_walk() {
    static RAW: Bucket<u32, Vec<u8>> = Bucket::new("nums", vpack::key::fuint(), vpack::bytes);
    let db = filled(&(1..=40).collect::<Vec<_>>());
    db.update(|tx| {
        write(tx, &RAW, 20, &mut vec![0xFF; 3]); // not a varint
        Ok::<_, Error>(())
    })
    .unwrap();
    // In a snapshot and in the writer.
    undecodable_walks(&db.read_tx().unwrap());
    undecodable_walks(&db.write_tx().unwrap());
}

fn undecodable_walks(tx: &impl Readable) {
    let met: Vec<Result<(u32, u32), Error>> = entries(tx, &NUMS).collect();
    assert_eq!(
        met.len(),
        20,
        "19 good entries, then the error, then nothing"
    );
    assert!(
        matches!(&met[19], Err(Error::Decode { part: "value", key, .. }) if key == &20u32.to_be_bytes())
    );
    assert!(entries(tx, &NUMS).collect::<Result<Vec<_>, _>>().is_err());
    // From the back: 40 down to 21, then the error, then nothing.
    let back: Vec<Result<(u32, u32), Error>> = entries(tx, &NUMS).rev().collect();
    assert_eq!(back.len(), 21);
    assert!(back[..20].iter().all(|e| e.is_ok()));
    assert!(back[20].is_err());
    // Both ends at once: each yields what lies on its side, one of them the
    // error, and no entry past it is ever yielded.
    let mut it = entries(tx, &NUMS);
    let (mut seen, mut errors) = (Vec::new(), 0);
    for i in 0.. {
        match if i % 2 == 0 {
            it.next()
        } else {
            it.next_back()
        } {
            Some(Ok((k, _))) => seen.push(k),
            Some(Err(_)) => errors += 1,
            None => break,
        }
    }
    assert_eq!(errors, 1);
    assert!(!seen.contains(&20));
    assert!(seen.len() <= 39);
}

#[test]
fn iterators_work_in_a_write_transaction_and_see_its_writes() {
    let db = filled(&[10, 20, 30]);
    let mut tx = db.write_tx().unwrap();
    let first: Vec<u32> = entries(&tx, &NUMS).take(1).map(|e| e.unwrap().0).collect();
    assert_eq!(first, [10]);
    // An iterator borrows the transaction: a write comes after it is done,
    // and the next one sees it.
    write(&mut tx, &NUMS, 25, &mut 75);
    let all: Vec<u32> = entries(&tx, &NUMS).map(|e| e.unwrap().0).collect();
    assert_eq!(all, [10, 20, 25, 30]);
    let prefixed: Vec<u32> = entries_with_prefix(&tx, &NUMS, 25u32, vpack::key::fuint())
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(prefixed, [25]);
}

/// A window's offset passes over entries without decoding them, in the
/// iterator as in the callback form: a target that does not unpack fails
/// the page that shows it, not a page that starts after it. (The iterator
/// used to decode the entries it skipped, and failed where the callback
/// form did not.)
#[test]
fn an_offset_passes_over_an_undecodable_target_in_both_forms() {
    // The same index, written with byte-string targets that IDX's 4-byte
    // targets cannot unpack.
    static RAW: Index<u16, Vec<u8>, i32> = Index::with_priority(
        "idx",
        vpack::key::fuint(),
        vpack::KeyFn::order_unchecked(vpack::bytes),
        vpack::key::fint_ord(),
    );
    let db = backend::test_db();
    db.update(|tx| {
        for target in 1..=10u32 {
            set_target_single_term_ext(tx, &IDX, target, 1, target as i32);
        }
        // Priority 0: the term's first entry.
        set_target_single_term_ext(tx, &RAW, vec![0xAA], 1, 0);
        Ok::<_, Error>(())
    })
    .unwrap();
    let tx = db.read_tx().unwrap();
    for reverse in [false, true] {
        let (all, past) = if reverse {
            (Window::new().reverse(), Window::new().reverse().limit(3))
        } else {
            (Window::new(), Window::new().offset(1).limit(3))
        };
        // A page that starts after the bad entry (forward: the offset
        // passes over it; backward: the page ends before it).
        let mut cb = Vec::new();
        iterate_term(&tx, &IDX, 1, &past, |t, _| {
            cb.push(t);
            true
        })
        .unwrap();
        let it: Vec<u32> = term_targets(&tx, &IDX, 1, &past)
            .map(|e| e.map(|(t, _)| t))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(it, cb);
        assert_eq!(it, if reverse { [10, 9, 8] } else { [1, 2, 3] });
        // The whole term reaches it: both forms fail, naming the target.
        let failed = iterate_term(&tx, &IDX, 1, &all, |_, _| true).unwrap_err();
        assert!(matches!(failed, Error::Decode { part: "target", .. }));
        let walked: Vec<_> = term_targets(&tx, &IDX, 1, &all).collect();
        assert!(matches!(
            walked.last(),
            Some(Err(Error::Decode { part: "target", .. }))
        ));
        // Forward the bad entry comes first; backward, after the ten.
        assert_eq!(walked.len(), if reverse { 11 } else { 1 });
    }
}
