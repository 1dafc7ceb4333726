//! A blog with categories: publishes articles, edits one (moving it between
//! categories), and prints paged "latest in category" listings.
//!
//! Run: `cargo run -p vbolt-examples --example blog` (database in
//! `data/blog.vbolt`, created fresh each run).

use std::error::Error;
use std::time::{Duration, UNIX_EPOCH};

use vbolt_examples::blog::{self, Article};

fn main() -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all("data")?;
    let path = std::path::Path::new("data/blog.vbolt");
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let db = vbolt::Db::open(path)?;
    vbolt::ensure_buckets(&db, &blog::INFO)?;

    let mut tx = db.write_tx()?;
    let rust = blog::create_category(&mut tx, "Rust");
    let dbs = blog::create_category(&mut tx, "Databases");
    let news = blog::create_category(&mut tx, "News");
    for i in 1..=12u64 {
        let mut cats = vec![if i % 2 == 0 { rust.id } else { dbs.id }];
        if i % 3 == 0 {
            cats.push(news.id);
        }
        blog::save_article(
            &mut tx,
            Article {
                id: 0,
                title: format!("Article {i}"),
                body: format!(
                    "Part {i} of a series about storage engines, pack functions and indexes, with examples."
                ),
                category_ids: cats,
                published: UNIX_EPOCH + Duration::from_secs(1_767_225_600 + i * 3600),
            },
        );
    }
    tx.commit()?;

    // Article 4 moves from Rust to Databases and News.
    db.update(|tx| {
        let mut a = vbolt::get(tx, &blog::ARTICLES, 4u64)?.ok_or("no article 4")?;
        a.category_ids = vec![dbs.id, news.id];
        blog::save_article(tx, a);
        Ok::<_, Box<dyn Error>>(())
    })?;

    let tx = db.read_tx()?;
    for cat in [&rust, &dbs, &news] {
        let mut cursor = None;
        let mut page_no = 1;
        loop {
            let page = blog::latest_in_category(&tx, cat.id, 4, cursor)?;
            println!("{} — page {page_no} of {} articles:", cat.name, page.total);
            for s in &page.summaries {
                println!(
                    "  #{:<2} {}  ({}…)",
                    s.id,
                    s.title,
                    s.teaser.chars().take(30).collect::<String>()
                );
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
            page_no += 1;
        }
    }
    println!(
        "article 4 is now in: {}",
        blog::categories_of(&tx, 4)?.join(", ")
    );
    Ok(())
}
