//! SQLite through rusqlite (bundled), set up as a competent SQL user would
//! for this workload: WAL with `synchronous=FULL` (every commit durable), a
//! page cache larger than the file, prepared statements cached, and tables
//! and indexes shaped for these queries:
//!
//! - `articles(id INTEGER PRIMARY KEY, ...)`: one row per article, with its
//!   category ids as a small blob so a full article reads without a join;
//! - `cat_art(cat, published, id)`, a `WITHOUT ROWID` table whose primary key
//!   is the index order, plus an index on `id` so an article's categories can
//!   be found for update or delete (what vbolt's reverse entries give);
//! - `cat_count(cat, n)`: counts kept in the writing transaction, as vbolt
//!   keeps them, instead of a `count(*)` per query.
//!
//! A second configuration, `SQLite (mmap)`, also maps the file into memory
//! (`PRAGMA mmap_size`), as a user tuning SQLite for reads would: pages are
//! then read in place instead of being copied into SQLite's page cache.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, Row, params};

use super::{Reader, System, Writer, article_sum};
use crate::workload::Article;

const SCHEMA: &str = "
    CREATE TABLE articles(
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL,
        published INTEGER NOT NULL,
        categories BLOB NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE cat_art(
        cat INTEGER NOT NULL,
        published INTEGER NOT NULL,
        id INTEGER NOT NULL,
        PRIMARY KEY (cat, published, id)
    ) WITHOUT ROWID;
    CREATE INDEX cat_art_by_id ON cat_art(id);
    CREATE TABLE cat_count(cat INTEGER PRIMARY KEY, n INTEGER NOT NULL);
";

const SELECT_ARTICLE: &str =
    "SELECT id, author_id, published, categories, title, body FROM articles WHERE id = ?1";
const SELECT_PAGE: &str = "
    SELECT a.id, a.author_id, a.published, a.categories, a.title, a.body
    FROM cat_art c JOIN articles a ON a.id = c.id
    WHERE c.cat = ?1
    ORDER BY c.published DESC, c.id DESC
    LIMIT 30";
const SELECT_COUNT: &str = "SELECT n FROM cat_count WHERE cat = ?1";

pub struct Sqlite {
    path: PathBuf,
    mapped: Mapped,
    // A connection is not shareable between threads; the single-threaded
    // figures use this one, readers on other threads open their own.
    conn: Mutex<Connection>,
}

/// Whether connections map the database file into memory.
#[derive(Clone, Copy)]
pub enum Mapped {
    /// Pages are read through SQLite's page cache only.
    No,
    /// Up to 1 GiB mapped: more than the whole file.
    Yes,
}

fn connect(path: &Path, mapped: Mapped) -> Connection {
    let conn = Connection::open(path).unwrap();
    if let Mapped::Yes = mapped {
        let size: i64 = conn
            .pragma_update_and_check(None, "mmap_size", 1i64 << 30, |row| row.get(0))
            .unwrap();
        // SQLite caps the size at compile time; 0 would mean not mapped.
        assert_eq!(size, 1 << 30, "SQLite did not map the file");
    }
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    // 256 MiB of page cache (negative: KiB), more than the whole file.
    conn.pragma_update(None, "cache_size", -262_144).unwrap();
    conn.set_prepared_statement_cache_capacity(16);
    conn
}

fn categories_blob(cats: &[i64]) -> Vec<u8> {
    cats.iter().flat_map(|c| c.to_le_bytes()).collect()
}

fn article_from(row: &Row) -> rusqlite::Result<Article> {
    let cats: Vec<u8> = row.get(3)?;
    Ok(Article {
        id: row.get(0)?,
        author_id: row.get(1)?,
        published: row.get(2)?,
        category_ids: cats
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        title: row.get(4)?,
        body: row.get(5)?,
    })
}

fn read_sum(conn: &Connection, id: i64) -> u64 {
    let mut stmt = conn.prepare_cached(SELECT_ARTICLE).unwrap();
    let mut rows = stmt.query([id]).unwrap();
    match rows.next().unwrap() {
        Some(row) => article_sum(&article_from(row).unwrap()),
        None => 0,
    }
}

impl Sqlite {
    pub fn open(dir: &Path, mapped: Mapped) -> Sqlite {
        let path = dir.join("sqlite.db");
        let conn = connect(&path, mapped);
        conn.execute_batch(SCHEMA).unwrap();
        Sqlite {
            path,
            mapped,
            conn: Mutex::new(conn),
        }
    }
}

/// Inserts `articles` with their index rows and counts in `tx`.
fn insert_articles(tx: &rusqlite::Transaction, articles: &[Article]) {
    let mut insert = tx
        .prepare_cached("INSERT INTO articles VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .unwrap();
    let mut link = tx
        .prepare_cached("INSERT INTO cat_art VALUES (?1, ?2, ?3)")
        .unwrap();
    let mut count = tx
        .prepare_cached(
            "INSERT INTO cat_count VALUES (?1, 1) ON CONFLICT(cat) DO UPDATE SET n = n + 1",
        )
        .unwrap();
    for a in articles {
        insert
            .execute(params![
                a.id,
                a.author_id,
                a.published,
                categories_blob(&a.category_ids),
                a.title,
                a.body
            ])
            .unwrap();
        for cat in &a.category_ids {
            link.execute(params![cat, a.published, a.id]).unwrap();
            count.execute([cat]).unwrap();
        }
    }
}

impl System for Sqlite {
    fn write(&self, articles: &[Article]) {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn.transaction().unwrap();
        insert_articles(&tx, articles);
        tx.commit().unwrap();
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn.transaction().unwrap();
        let sum = ids
            .iter()
            .map(|id| read_sum(&tx, *id))
            .fold(0, u64::wrapping_add);
        tx.commit().unwrap();
        sum
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        // Outside an explicit transaction each statement is its own.
        let conn = self.conn.lock().unwrap();
        ids.iter()
            .map(|id| read_sum(&conn, *id))
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn.transaction().unwrap();
        let mut sum = 0u64;
        let mut page = Vec::with_capacity(30);
        {
            let mut stmt = tx.prepare_cached(SELECT_PAGE).unwrap();
            for cat in categories {
                page.clear();
                let rows = stmt.query_map([cat], article_from).unwrap();
                page.extend(rows.map(Result::unwrap));
                sum = page.iter().map(article_sum).fold(sum, u64::wrapping_add);
            }
        }
        tx.commit().unwrap();
        sum
    }
    fn counts(&self, categories: &[i64]) -> u64 {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn.transaction().unwrap();
        let sum = {
            let mut stmt = tx.prepare_cached(SELECT_COUNT).unwrap();
            categories
                .iter()
                .map(|cat| {
                    let mut rows = stmt.query([cat]).unwrap();
                    rows.next()
                        .unwrap()
                        .map_or(0, |r| r.get::<_, i64>(0).unwrap() as u64)
                })
                .sum()
        };
        tx.commit().unwrap();
        sum
    }
    /// A connection per writer thread, waiting for the write lock (busy
    /// timeout) and taking it at `BEGIN` (`IMMEDIATE`), so a writer never
    /// fails on a lock it would have to upgrade.
    fn writer(&self) -> Option<Box<dyn Writer + '_>> {
        let conn = connect(&self.path, self.mapped);
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        Some(Box::new(SqliteWriter { conn }))
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(SqliteReader {
            conn: connect(&self.path, self.mapped),
        })
    }
}

struct SqliteReader {
    conn: Connection,
}

impl Reader for SqliteReader {
    fn read_batch(&mut self, ids: &[i64]) -> usize {
        let tx = self.conn.transaction().unwrap();
        let found = {
            let mut stmt = tx.prepare_cached(SELECT_ARTICLE).unwrap();
            ids.iter()
                .filter(|id| {
                    let mut rows = stmt.query([**id]).unwrap();
                    rows.next().unwrap().is_some_and(|r| {
                        r.get::<_, i64>(0).unwrap() == **id && article_from(r).is_ok()
                    })
                })
                .count()
        };
        tx.commit().unwrap();
        found
    }
}

struct SqliteWriter {
    conn: Connection,
}

impl Writer for SqliteWriter {
    fn commit(&mut self, article: &Article) {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        insert_articles(&tx, std::slice::from_ref(article));
        tx.commit().unwrap();
    }
}
