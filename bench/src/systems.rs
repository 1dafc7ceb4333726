//! The systems compared, each doing the same logical work.

use std::ops::Bound;
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use vbolt::{Bucket, Db, Direction, Index, Window};

use crate::workload::{Article, pack_article};

/// One system under test. Every method returns a checksum of what it read,
/// so the harness can check that all systems gave the same answers.
pub trait System {
    #[allow(dead_code)] // named systems for future per-system output
    fn name(&self) -> &'static str;
    /// Writes `articles` with their index entries, `batch` per durable commit.
    fn load(&mut self, articles: &[Article], batch: usize);
    /// Reads and decodes each id, all in one read transaction.
    fn point_reads(&self, ids: &[i64]) -> u64;
    /// Reads and decodes each id, each in its own read transaction.
    fn point_reads_tx(&self, ids: &[i64]) -> u64;
    /// For each category: the newest 30 article ids, then those articles.
    fn page_queries(&self, categories: &[i64]) -> u64;
    /// For each category: its article count.
    fn counts(&self, categories: &[i64]) -> u64;
    /// Writes each article in its own durable transaction.
    fn small_commits(&mut self, articles: &[Article]);
}

pub fn article_sum(a: &Article) -> u64 {
    (a.id as u64).wrapping_mul(31)
        ^ a.published as u64
        ^ ((a.title.len() + a.body.len()) as u64) << 40
}

// ---- vbolt ----------------------------------------------------------------

static ARTICLES: Bucket<i64, Article> = Bucket::new("articles", vpack::fint, pack_article);
static CAT_ART: Index<i64, i64, i64> =
    Index::new_ext("cat_art", vpack::fint, vpack::fint_ord, vpack::fint);

pub struct Vbolt {
    db: Db,
}

impl Vbolt {
    pub fn open(dir: &Path) -> Vbolt {
        Vbolt {
            db: Db::open(dir.join("vbolt.db")).unwrap(),
        }
    }

    fn write_articles(&self, articles: &[Article]) {
        let mut tx = self.db.write_tx().unwrap();
        for a in articles {
            let mut a = a.clone();
            vbolt::write(&mut tx, &ARTICLES, a.id, &mut a);
            vbolt::set_target_terms_uniform(&mut tx, &CAT_ART, a.id, &a.category_ids, a.published);
        }
        tx.commit().unwrap();
    }
}

impl System for Vbolt {
    fn name(&self) -> &'static str {
        "vbolt"
    }
    fn load(&mut self, articles: &[Article], batch: usize) {
        for chunk in articles.chunks(batch) {
            self.write_articles(chunk);
        }
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let tx = self.db.read_tx().unwrap();
        let mut a = Article::default();
        ids.iter()
            .map(|id| {
                if vbolt::read(&tx, &ARTICLES, id, &mut a) {
                    article_sum(&a)
                } else {
                    0
                }
            })
            .fold(0, u64::wrapping_add)
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        let mut a = Article::default();
        ids.iter()
            .map(|id| {
                let tx = self.db.read_tx().unwrap();
                if vbolt::read(&tx, &ARTICLES, id, &mut a) {
                    article_sum(&a)
                } else {
                    0
                }
            })
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let tx = self.db.read_tx().unwrap();
        let window = Window {
            limit: 30,
            direction: Direction::Reverse,
            ..Window::default()
        };
        let mut ids = Vec::with_capacity(30);
        let mut page = Vec::with_capacity(30);
        let mut sum = 0u64;
        for cat in categories {
            ids.clear();
            page.clear();
            vbolt::read_term_targets(&tx, &CAT_ART, cat, &mut ids, &window);
            vbolt::read_slice(&tx, &ARTICLES, &ids, &mut page);
            sum = page.iter().map(article_sum).fold(sum, u64::wrapping_add);
        }
        sum
    }
    fn counts(&self, categories: &[i64]) -> u64 {
        let tx = self.db.read_tx().unwrap();
        categories
            .iter()
            .map(|c| vbolt::read_term_count(&tx, &CAT_ART, c) as u64)
            .sum()
    }
    fn small_commits(&mut self, articles: &[Article]) {
        for a in articles {
            self.write_articles(std::slice::from_ref(a));
        }
    }
}

// ---- raw redb ---------------------------------------------------------------

const RAW_ARTICLES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("articles");
const RAW_INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("cat_art");

/// Hand-written keys on redb, tables opened once per transaction: the floor
/// vbolt's overhead is measured against. Same layout as a vbolt index: term
/// entries `1|cat|published(ord)|id`, target entries `2|id|cat`, counts `3|cat`.
pub struct RawRedb {
    db: redb::Database,
}

fn ord(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

impl RawRedb {
    pub fn open(dir: &Path) -> RawRedb {
        RawRedb {
            db: redb::Database::create(dir.join("raw.redb")).unwrap(),
        }
    }

    fn write_articles(&self, articles: &[Article]) {
        let txn = self.db.begin_write().unwrap();
        {
            let mut table = txn.open_table(RAW_ARTICLES).unwrap();
            let mut index = txn.open_table(RAW_INDEX).unwrap();
            let mut value = Vec::with_capacity(1024);
            for a in articles {
                value.clear();
                vpack::append_bytes(&mut a.clone(), pack_article, &mut value).unwrap();
                table.insert(&a.id.to_be_bytes()[..], &value[..]).unwrap();
                for cat in &a.category_ids {
                    let mut key = [0u8; 25];
                    key[0] = 1;
                    key[1..9].copy_from_slice(&cat.to_be_bytes());
                    key[9..17].copy_from_slice(&ord(a.published));
                    key[17..].copy_from_slice(&a.id.to_be_bytes());
                    index.insert(&key[..], &[][..]).unwrap();
                    let mut rkey = [0u8; 17];
                    rkey[0] = 2;
                    rkey[1..9].copy_from_slice(&a.id.to_be_bytes());
                    rkey[9..].copy_from_slice(&cat.to_be_bytes());
                    index.insert(&rkey[..], &ord(a.published)[..]).unwrap();
                    let mut ckey = [0u8; 9];
                    ckey[0] = 3;
                    ckey[1..].copy_from_slice(&cat.to_be_bytes());
                    let n = index
                        .get(&ckey[..])
                        .unwrap()
                        .map_or(0, |v| u64::from_be_bytes(v.value().try_into().unwrap()));
                    index.insert(&ckey[..], &(n + 1).to_be_bytes()[..]).unwrap();
                }
            }
        }
        txn.commit().unwrap();
    }

    fn read_article(table: &redb::ReadOnlyTable<&[u8], &[u8]>, id: i64) -> Option<Article> {
        table
            .get(&id.to_be_bytes()[..])
            .unwrap()
            .map(|v| vpack::from_bytes(v.value(), pack_article).unwrap())
    }

    fn read_one(table: &redb::ReadOnlyTable<&[u8], &[u8]>, id: i64) -> u64 {
        Self::read_article(table, id)
            .as_ref()
            .map_or(0, article_sum)
    }
}

impl System for RawRedb {
    fn name(&self) -> &'static str {
        "raw redb"
    }
    fn load(&mut self, articles: &[Article], batch: usize) {
        for chunk in articles.chunks(batch) {
            self.write_articles(chunk);
        }
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(RAW_ARTICLES).unwrap();
        ids.iter()
            .map(|id| Self::read_one(&table, *id))
            .fold(0, u64::wrapping_add)
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        ids.iter()
            .map(|id| {
                let txn = self.db.begin_read().unwrap();
                let table = txn.open_table(RAW_ARTICLES).unwrap();
                Self::read_one(&table, *id)
            })
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(RAW_ARTICLES).unwrap();
        let index = txn.open_table(RAW_INDEX).unwrap();
        let mut sum = 0u64;
        let mut ids = Vec::with_capacity(30);
        let mut page = Vec::with_capacity(30);
        for cat in categories {
            let mut lo = [0u8; 9];
            lo[0] = 1;
            lo[1..].copy_from_slice(&cat.to_be_bytes());
            let mut hi = lo;
            hi[1..].copy_from_slice(&(cat + 1).to_be_bytes());
            ids.clear();
            for entry in index
                .range::<&[u8]>((Bound::Included(&lo[..]), Bound::Excluded(&hi[..])))
                .unwrap()
                .rev()
                .take(30)
            {
                let (k, _) = entry.unwrap();
                ids.push(i64::from_be_bytes(k.value()[17..25].try_into().unwrap()));
            }
            // The page is returned as a list of articles, as vbolt's is.
            page.clear();
            page.extend(ids.iter().filter_map(|id| Self::read_article(&table, *id)));
            sum = page.iter().map(article_sum).fold(sum, u64::wrapping_add);
        }
        sum
    }
    fn counts(&self, categories: &[i64]) -> u64 {
        let txn = self.db.begin_read().unwrap();
        let index = txn.open_table(RAW_INDEX).unwrap();
        categories
            .iter()
            .map(|cat| {
                let mut ckey = [0u8; 9];
                ckey[0] = 3;
                ckey[1..].copy_from_slice(&cat.to_be_bytes());
                index
                    .get(&ckey[..])
                    .unwrap()
                    .map_or(0, |v| u64::from_be_bytes(v.value().try_into().unwrap()))
            })
            .sum()
    }
    fn small_commits(&mut self, articles: &[Article]) {
        for a in articles {
            self.write_articles(std::slice::from_ref(a));
        }
    }
}
