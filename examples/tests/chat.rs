//! The chat use cases on a real database file: unique handles, thread
//! ordering, unread markers, newest-first pagination, permissions.

use vbolt_examples::chat::{self, ChatError, Clock};

#[test]
fn scripted_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat::open(&dir.path().join("chat.vbolt")).unwrap();
    db.strict_indexes(true); // every index entry points at a record
    let mut clock = Clock::new();

    let mut tx = db.write_tx().unwrap();
    let ann = chat::create_user(&mut tx, "ann", "Ann").unwrap();
    let bo = chat::create_user(&mut tx, "bo", "Bo").unwrap();
    let cy = chat::create_user(&mut tx, "cy", "Cy").unwrap();
    assert!(matches!(
        chat::create_user(&mut tx, "ann", "Imposter"),
        Err(ChatError::HandleTaken(ref h)) if h == "ann"
    ));
    tx.commit().unwrap();

    let tx = db.read_tx().unwrap();
    assert_eq!(chat::user_by_handle(&tx, "bo").unwrap().unwrap().id, bo.id);
    assert!(chat::user_by_handle(&tx, "nobody").unwrap().is_none());
    drop(tx);

    let mut tx = db.write_tx().unwrap();
    let team = chat::start_thread(&mut tx, &[ann.id, bo.id, cy.id], clock.tick()).unwrap();
    let direct = chat::start_thread(&mut tx, &[ann.id, bo.id], clock.tick()).unwrap();
    assert!(matches!(
        chat::start_thread(&mut tx, &[ann.id, uuid::Uuid::new_v4()], clock.tick()),
        Err(ChatError::UnknownUser)
    ));
    tx.commit().unwrap();

    // Fresh threads have nothing unread; the direct thread is newer.
    let tx = db.read_tx().unwrap();
    let (list, next) = chat::list_threads(&tx, ann.id, 10, None).unwrap();
    assert_eq!(
        list.iter()
            .map(|t| (t.thread.id, t.unread))
            .collect::<Vec<_>>(),
        [(direct.id, false), (team.id, false)]
    );
    assert!(next.is_none());
    drop(tx);

    let post = |sender: uuid::Uuid, thread: uuid::Uuid, text: &str, clock: &mut Clock| {
        let mut tx = db.write_tx().unwrap();
        let m = chat::post_message(&mut tx, sender, thread, text, clock.tick());
        tx.commit().unwrap();
        m
    };
    for i in 0..7 {
        let sender = [ann.id, bo.id, cy.id][i % 3];
        post(sender, team.id, &format!("team {i}"), &mut clock).unwrap();
    }
    post(bo.id, direct.id, "psst", &mut clock).unwrap();
    assert!(matches!(
        post(cy.id, direct.id, "let me in", &mut clock),
        Err(ChatError::NotAParticipant)
    ));

    let tx = db.read_tx().unwrap();
    // Ann: direct (Bo's message, unread) is now the most recent, then team
    // (last message by Ann herself: read).
    let (list, _) = chat::list_threads(&tx, ann.id, 10, None).unwrap();
    assert_eq!(
        list.iter()
            .map(|t| (t.thread.id, t.unread))
            .collect::<Vec<_>>(),
        [(direct.id, true), (team.id, false)]
    );
    // Bo posted last in the direct thread: read; team's last is Ann's: unread.
    let (list, _) = chat::list_threads(&tx, bo.id, 10, None).unwrap();
    assert_eq!(
        list.iter()
            .map(|t| (t.thread.id, t.unread))
            .collect::<Vec<_>>(),
        [(direct.id, false), (team.id, true)]
    );
    // Cy is only in the team thread.
    let (list, _) = chat::list_threads(&tx, cy.id, 1, None).unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].unread);

    // History newest first, three per page, every message exactly once.
    assert_eq!(chat::message_count(&tx, team.id).unwrap(), 7);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = chat::read_messages(&tx, team.id, 3, cursor).unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.into_iter().map(|m| m.content));
        // The cursor survives a round trip through text, as a web client would carry it.
        cursor = next.map(|c| c.to_string().parse().unwrap());
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        (0..7)
            .rev()
            .map(|i| format!("team {i}"))
            .collect::<Vec<_>>()
    );
    drop(tx);

    // Marking read clears the marker for that user only.
    let mut tx = db.write_tx().unwrap();
    chat::mark_read(&mut tx, cy.id, team.id, clock.tick()).unwrap();
    assert!(matches!(
        chat::mark_read(&mut tx, cy.id, direct.id, clock.tick()),
        Err(ChatError::NotAParticipant)
    ));
    tx.commit().unwrap();
    let tx = db.read_tx().unwrap();
    assert!(!chat::list_threads(&tx, cy.id, 10, None).unwrap().0[0].unread);
    assert!(chat::list_threads(&tx, bo.id, 10, None).unwrap().0[1].unread);
}

#[test]
fn a_refused_use_case_inside_a_transaction_commits_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = chat::open(&dir.path().join("chat.vbolt")).unwrap();
    db.strict_indexes(true); // every index entry points at a record
    let mut tx = db.write_tx().unwrap();
    chat::create_user(&mut tx, "ann", "Ann").unwrap();
    tx.commit().unwrap();
    // Application-level rule: abandon the whole transaction on refusal.
    let mut tx = db.write_tx().unwrap();
    chat::create_user(&mut tx, "dee", "Dee").unwrap();
    let second = chat::create_user(&mut tx, "ann", "Again");
    assert!(second.is_err());
    drop(tx); // not committed
    let tx = db.read_tx().unwrap();
    assert!(chat::user_by_handle(&tx, "dee").unwrap().is_none());
}

/// The tutorial shows what `#[derive(Pack)]` generates for `Thread`; the
/// derived function must write exactly those bytes (and so must read the
/// records the hand-written function of earlier releases wrote).
#[test]
fn the_derived_thread_function_is_the_one_the_tutorial_shows() {
    use std::time::{Duration, UNIX_EPOCH};
    use uuid::Uuid;
    use vpack::Pack;

    fn pack(t: &mut chat::Thread, buf: &mut vpack::Buffer) {
        vpack::version(1, buf);
        vpack::uuid(&mut t.id, buf);
        vpack::vec(&mut t.participants, buf, vpack::uuid);
        vpack::unix_time_milli(&mut t.started_at, buf);
        vpack::uuid(&mut t.latest_message, buf);
        vpack::unix_time_milli(&mut t.active_at, buf);
    }
    let mut t = chat::Thread {
        id: Uuid::from_u128(1),
        participants: vec![Uuid::from_u128(2), Uuid::from_u128(3)],
        started_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        latest_message: Uuid::from_u128(4),
        active_at: UNIX_EPOCH + Duration::from_millis(1_700_000_500_000),
    };
    let by_hand = vpack::to_bytes(&mut t.clone(), pack).unwrap();
    assert_eq!(t.to_bytes().unwrap(), by_hand);
    assert_eq!(chat::Thread::from_bytes(&by_hand).unwrap(), t);
    assert_eq!(chat::Thread::default().started_at, UNIX_EPOCH);
}

#[test]
fn posts_in_the_same_millisecond_list_in_posting_order() {
    let db = vbolt::Db::in_memory().unwrap();
    vbolt::ensure_buckets(&db, &chat::INFO).unwrap();
    let now = Clock::new().tick();
    let mut tx = db.write_tx().unwrap();
    let ann = chat::create_user(&mut tx, "ann", "Ann").unwrap();
    let thread = chat::start_thread(&mut tx, &[ann.id], now).unwrap();
    // Forty posts stamped with one instant: the ids are random, so without
    // a tie-break the history would come back shuffled.
    let posted: Vec<_> = (0..40)
        .map(|i| {
            chat::post_message(&mut tx, ann.id, thread.id, &i.to_string(), now)
                .unwrap()
                .id
        })
        .collect();
    tx.commit().unwrap();
    let tx = db.read_tx().unwrap();
    let (page, _) = chat::read_messages(&tx, thread.id, 100, None).unwrap();
    let newest_first: Vec<_> = page.iter().map(|m| m.id).collect();
    let mut expected = posted;
    expected.reverse();
    assert_eq!(newest_first, expected);
}
