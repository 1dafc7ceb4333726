//! The blog: category listings newest first with exact counts, articles
//! moving between categories, deletion, summaries instead of articles.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vbolt_examples::blog::{self, Article};

fn at(hours: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600 + hours * 3600)
}

#[test]
fn latest_in_category_pages_counts_and_moves() {
    let db = vbolt::Db::in_memory().unwrap();
    let mut tx = db.write_tx().unwrap();
    let a = blog::create_category(&mut tx, "A");
    let b = blog::create_category(&mut tx, "B");
    // Published out of id order: the listing follows publication time.
    let times = [5u64, 1, 9, 3, 7, 2, 8];
    for (i, h) in times.iter().enumerate() {
        let cats = if i % 2 == 0 {
            vec![a.id, b.id]
        } else {
            vec![a.id]
        };
        blog::save_article(
            &mut tx,
            Article {
                id: 0,
                title: format!("t{i}"),
                body: "one two three".into(),
                category_ids: cats,
                published: at(*h),
            },
        );
    }
    tx.commit().unwrap();

    let tx = db.read_tx().unwrap();
    // Category A has all seven, newest first: ids by descending time.
    let mut expected: Vec<(u64, u64)> = times
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, i as u64 + 1))
        .collect();
    expected.sort_by(|x, y| y.cmp(x));
    let expected_ids: Vec<u64> = expected.iter().map(|(_, id)| *id).collect();
    let mut got = Vec::new();
    let mut cursor = None;
    loop {
        let page = blog::latest_in_category(&tx, a.id, 3, cursor).unwrap();
        assert_eq!(page.total, 7);
        got.extend(page.summaries.iter().map(|s| s.id));
        // Summaries are precomputed and match their article.
        for s in &page.summaries {
            assert_eq!(s.title, format!("t{}", s.id - 1));
            assert_eq!(s.teaser, "one two three");
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(got, expected_ids);
    assert_eq!(
        blog::latest_in_category(&tx, b.id, 10, None).unwrap().total,
        4
    );
    drop(tx);

    // Move article 2 (in A only) to B only; delete article 1 (in A and B).
    let mut tx = db.write_tx().unwrap();
    let mut art = Article::default();
    assert!(vbolt::read(&tx, &blog::ARTICLES, 2u64, &mut art));
    art.category_ids = vec![b.id];
    blog::save_article(&mut tx, art);
    blog::delete_article(&mut tx, 1);
    tx.commit().unwrap();

    let tx = db.read_tx().unwrap();
    let in_a = blog::latest_in_category(&tx, a.id, 100, None).unwrap();
    assert_eq!(in_a.total, 5);
    assert!(in_a.summaries.iter().all(|s| s.id != 1 && s.id != 2));
    let in_b = blog::latest_in_category(&tx, b.id, 100, None).unwrap();
    assert_eq!(in_b.total, 4);
    assert_eq!(
        in_b.summaries.iter().map(|s| s.id).collect::<Vec<_>>(),
        [3, 7, 5, 2]
    );
    assert_eq!(blog::categories_of(&tx, 2).unwrap(), ["B"]);
    assert!(!vbolt::has_key(&tx, &blog::SUMMARIES, 1u64).unwrap());
}
