//! Keys, terms, targets and priorities of a type without `Default`: a bare
//! `SystemTime` (and `Option<SystemTime>`) goes through every bucket and
//! index function. Its zero key is the Unix epoch.

mod backend;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vbolt::*;

/// Log lines by the time they were written.
static LOG: Bucket<SystemTime, String> =
    Bucket::new("log", vpack::key::unix_time_milli_ord(), vpack::string);
/// Term: a day. Target: a log line's time. Priority: when it was seen.
static BY_DAY: Index<SystemTime, SystemTime, SystemTime> = Index::with_priority(
    "by_day",
    vpack::key::unix_time_ord(),
    vpack::key::unix_time_milli_ord(),
    vpack::key::unix_time_milli_ord(),
);
/// Term: a user. Target: a log line. Priority: an optional deadline.
static DEADLINES: Index<u64, SystemTime, Option<SystemTime>> = Index::with_priority(
    "deadlines",
    vpack::key::fuint(),
    vpack::key::unix_time_milli_ord(),
    // No deadline packs as the epoch: not `Option`'s order, said so.
    vpack::KeyFn::order_unchecked(|p, buf| {
        vpack::option_from(p, buf, vpack::unix_time_milli_ord, || UNIX_EPOCH)
    }),
);

/// `secs` seconds from the epoch (before it when negative).
fn t(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs < 0 {
        UNIX_EPOCH - d
    } else {
        UNIX_EPOCH + d
    }
}

const DAY: i64 = 86_400;

fn day_of(at: SystemTime) -> SystemTime {
    let secs = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    t(secs.div_euclid(DAY) * DAY + DAY / 2)
}

/// Writes four log lines (one before 1970) and indexes each under its day.
fn fill(db: &Db) -> Result<[SystemTime; 4], Error> {
    let at = [t(-3 * DAY), t(10), t(DAY + 5), t(DAY + 9)];
    db.update(|tx| {
        for (i, when) in at.iter().enumerate() {
            write(tx, &LOG, when, &mut format!("line {i}"));
            set_target_single_term_ext(
                tx,
                &BY_DAY,
                when,
                day_of(*when),
                *when + Duration::from_secs(1),
            );
        }
        set_target_terms(tx, &DEADLINES, at[1], [(7, None), (8, Some(t(99)))]);
        Ok::<_, Error>(())
    })?;
    Ok(at)
}

#[test]
fn a_bare_system_time_is_a_bucket_key_in_every_function() -> Result<(), Error> {
    let db = backend::test_db();
    let at = fill(&db)?;
    let tx = db.read_tx()?;

    assert_eq!(get(&tx, &LOG, at[1])?.as_deref(), Some("line 1"));
    #[allow(clippy::needless_borrows_for_generic_args)] // `&K` is one of the accepted forms
    let by_ref = get(&tx, &LOG, &at[0])?;
    assert_eq!(by_ref.as_deref(), Some("line 0"));
    assert!(has_key(&tx, &LOG, at[2])?);
    let mut line = String::new();
    assert!(read(&tx, &LOG, at[3], &mut line));
    assert_eq!(line, "line 3");
    let mut lines = Vec::new();
    assert_eq!(read_slice(&tx, &LOG, at, &mut lines)?, 4);
    let mut map = BTreeMap::new();
    assert_eq!(read_slice_to_map(&tx, &LOG, &at, &mut map)?, 4);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), at);

    // Iteration in time order, from either end, over a range.
    let keys: Vec<SystemTime> = entries(&tx, &LOG)
        .map(|e| e.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(keys, at, "pre-1970 first, then in time order");
    let newest = entries(&tx, &LOG).next_back().transpose()?;
    assert_eq!(newest, Some((at[3], "line 3".to_string())));
    let since_day_1: Vec<SystemTime> = entries_in(&tx, &LOG, t(DAY)..)
        .map(|e| e.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    assert_eq!(since_day_1, at[2..]);

    // The callback forms.
    let mut seen = Vec::new();
    iterate_all(&tx, &LOG, |k, _| {
        seen.push(k);
        true
    })?;
    iterate_all_reverse(&tx, &LOG, |k, _| {
        seen.push(k);
        true
    })?;
    assert_eq!(
        seen,
        [at[0], at[1], at[2], at[3], at[3], at[2], at[1], at[0]]
    );
    let mut page = Vec::new();
    let next = scan_list(&tx, &LOG, Some(&at[1]), Some(2), &mut page)?;
    assert_eq!(
        (page.as_slice(), next),
        (
            &["line 1".to_string(), "line 2".to_string()][..],
            Some(at[3])
        )
    );
    let mut from = Vec::new();
    iterate_bucket_from(&tx, &LOG, &at[2], Direction::Reverse, |k, _| {
        from.push(k);
        true
    })?;
    assert_eq!(from, [at[2], at[1], at[0]]);
    let mut shown = 0;
    debug_entries(&tx, &LOG, None, |_, _| shown += 1)?;
    assert_eq!(shown, 4);
    Ok(())
}

#[test]
fn a_bare_system_time_is_a_term_a_target_and_a_priority_in_every_function() -> Result<(), Error> {
    let db = backend::test_db();
    let at = fill(&db)?;
    let tx = db.read_tx()?;
    let day1 = day_of(at[2]);

    assert_eq!(read_term_count(&tx, &BY_DAY, day1)?, 2);
    assert_eq!(first_target(&tx, &BY_DAY, day1)?, Some(at[2]));
    let mut targets = Vec::new();
    read_term_targets(&tx, &BY_DAY, day1, &mut targets, &Window::new().reverse())?;
    assert_eq!(targets, [at[3], at[2]]);

    let mut pairs = Vec::new();
    iterate_term(&tx, &BY_DAY, day1, &Window::new(), |target, prio| {
        pairs.push((target, prio));
        true
    })?;
    let windowed: Vec<(SystemTime, SystemTime)> =
        term_targets(&tx, &BY_DAY, day1, &Window::new()).collect::<Result<_, _>>()?;
    assert_eq!(pairs, windowed);
    assert_eq!(
        pairs,
        [
            (at[2], at[2] + Duration::from_secs(1)),
            (at[3], at[3] + Duration::from_secs(1))
        ]
    );

    let mut terms_of_line = Vec::new();
    iterate_target(&tx, &BY_DAY, at[0], |term, prio| {
        terms_of_line.push((term, prio));
        true
    })?;
    let iterated: Vec<(SystemTime, SystemTime)> =
        target_terms(&tx, &BY_DAY, at[0]).collect::<Result<_, _>>()?;
    assert_eq!(terms_of_line, iterated);
    assert_eq!(
        terms_of_line,
        [(day_of(at[0]), at[0] + Duration::from_secs(1))]
    );

    let mut counts = Vec::new();
    iterate_all_terms(&tx, &BY_DAY, |term, n| {
        counts.push((term, n));
        true
    })?;
    let all: Vec<(SystemTime, usize)> = terms(&tx, &BY_DAY).collect::<Result<_, _>>()?;
    assert_eq!(counts, all);
    assert_eq!(counts, [(day_of(at[0]), 1), (day_of(at[1]), 1), (day1, 2)]);

    // `Option<SystemTime>` priorities, with `None` first.
    let deadlines: Vec<(u64, Option<SystemTime>)> =
        target_terms(&tx, &DEADLINES, at[1]).collect::<Result<_, _>>()?;
    assert_eq!(deadlines, [(7, None), (8, Some(t(99)))]);
    drop(tx);

    // Plain priorities are the blank one (the epoch); a rebuild restores
    // the same entries.
    db.update(|tx| {
        set_target_terms_plain(tx, &BY_DAY, at[1], [day_of(at[1])]);
        Ok::<_, Error>(())
    })?;
    let plain = db.view(|tx| {
        term_targets(tx, &BY_DAY, day_of(at[1]), &Window::new()).collect::<Result<Vec<_>, _>>()
    })?;
    assert_eq!(plain, [(at[1], UNIX_EPOCH)]);
    let rebuilt = rebuild_index(
        &db,
        &BY_DAY,
        &LOG,
        2,
        |k, _, out| out.push((day_of(*k), *k)),
        |_| {},
    )?;
    assert_eq!(rebuilt, 4);
    let after = db.view(|tx| {
        term_targets(tx, &BY_DAY, day1, &Window::new()).collect::<Result<Vec<_>, _>>()
    })?;
    assert_eq!(after, [(at[2], at[2]), (at[3], at[3])]);
    Ok(())
}

#[test]
fn the_epoch_is_the_zero_time_key() -> Result<(), Error> {
    let db = backend::test_db();
    let err = db
        .update(|tx| {
            write(tx, &LOG, UNIX_EPOCH, &mut "at zero".to_string());
            Ok::<_, Error>(())
        })
        .unwrap_err();
    assert!(matches!(err, Error::ZeroKey { table: "log" }), "{err}");
    let err = db
        .update(|tx| {
            set_target_single_term_ext(tx, &BY_DAY, UNIX_EPOCH, t(DAY), t(1));
            Ok::<_, Error>(())
        })
        .unwrap_err();
    assert!(matches!(err, Error::ZeroKey { .. }), "{err}");
    let tx = db.read_tx()?;
    assert_eq!(get(&tx, &LOG, UNIX_EPOCH)?, None);
    assert_eq!(read_term_count(&tx, &BY_DAY, t(DAY))?, 0);
    Ok(())
}
