//! Hand-written keys directly on redb, tables opened once per transaction:
//! the floor vbolt's overhead is measured against.
//!
//! Same layout as a vbolt index (see docs/ARCHITECTURE.md): term entries
//! `cat|published(ord)|id` in one table, target entries `id|cat` in a
//! second, counts `cat` in a third. Two key types, run as two systems:
//!
//! - `raw redb`: keys compared by the engine key type vbolt gives redb (byte
//!   order, a word at a time), so the difference from vbolt is vbolt's
//!   layer and nothing else;
//! - `raw redb (memcmp)`: redb's own `&[u8]` keys (compared by `memcmp`), as a
//!   hand-written redb program would most simply declare them; the
//!   difference from `raw redb` is what the key type buys.

use std::marker::PhantomData;
use std::ops::Bound;
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::hand_keys::{TERM_VALUE, count_of, ord, target_key, term_key, term_range, term_target};
use super::{Reader, System, article_sum};
use crate::workload::{Article, pack_article};

/// A redb key type whose values are byte slices.
pub trait ByteKey: for<'a> redb::Key<SelfType<'a> = &'a [u8]> + 'static {}
impl<K: for<'a> redb::Key<SelfType<'a> = &'a [u8]> + 'static> ByteKey for K {}

/// vbolt's engine key type.
pub type WordKeys = vbolt::EngineKey;
/// redb's plain byte-slice keys.
pub type SliceKeys = &'static [u8];

type Def<K> = TableDefinition<'static, K, &'static [u8]>;

fn articles_table<K: ByteKey>() -> Def<K> {
    TableDefinition::new("articles")
}
fn terms_table<K: ByteKey>() -> Def<K> {
    TableDefinition::new("cat_art")
}
fn targets_table<K: ByteKey>() -> Def<K> {
    TableDefinition::new("cat_art_targets")
}
fn counts_table<K: ByteKey>() -> Def<K> {
    TableDefinition::new("cat_art_counts")
}

type ReadTable<K> = redb::ReadOnlyTable<K, &'static [u8]>;

pub struct RawRedb<K> {
    db: redb::Database,
    keys: PhantomData<fn() -> K>,
}

fn read_count(v: Option<redb::AccessGuard<&[u8]>>) -> u64 {
    count_of(v.as_ref().map(|v| v.value()))
}

impl<K: ByteKey> RawRedb<K> {
    pub fn open(dir: &Path) -> RawRedb<K> {
        RawRedb {
            db: redb::Database::create(dir.join("raw.redb")).unwrap(),
            keys: PhantomData,
        }
    }

    fn read_article(table: &ReadTable<K>, id: i64) -> Option<Article> {
        table
            .get(&id.to_be_bytes()[..])
            .unwrap()
            .map(|v| vpack::from_bytes(v.value(), pack_article).unwrap())
    }

    fn read_one(table: &ReadTable<K>, id: i64) -> u64 {
        Self::read_article(table, id)
            .as_ref()
            .map_or(0, article_sum)
    }
}

impl<K: ByteKey> System for RawRedb<K> {
    fn write(&self, articles: &[Article]) {
        let txn = self.db.begin_write().unwrap();
        {
            let mut table = txn.open_table(articles_table::<K>()).unwrap();
            let mut terms = txn.open_table(terms_table::<K>()).unwrap();
            let mut targets = txn.open_table(targets_table::<K>()).unwrap();
            let mut counts = txn.open_table(counts_table::<K>()).unwrap();
            let mut value = Vec::with_capacity(1024);
            for a in articles {
                value.clear();
                vpack::append_bytes(&mut a.clone(), pack_article, &mut value).unwrap();
                table.insert(&a.id.to_be_bytes()[..], &value[..]).unwrap();
                for cat in &a.category_ids {
                    let key = term_key(*cat, a.published, a.id);
                    terms.insert(&key[..], &TERM_VALUE[..]).unwrap();
                    let rkey = target_key(a.id, *cat);
                    targets.insert(&rkey[..], &ord(a.published)[..]).unwrap();
                    let ckey = cat.to_be_bytes();
                    let n = read_count(counts.get(&ckey[..]).unwrap());
                    counts
                        .insert(&ckey[..], &(n + 1).to_be_bytes()[..])
                        .unwrap();
                }
            }
        }
        txn.commit().unwrap();
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(articles_table::<K>()).unwrap();
        ids.iter()
            .map(|id| Self::read_one(&table, *id))
            .fold(0, u64::wrapping_add)
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        ids.iter()
            .map(|id| {
                let txn = self.db.begin_read().unwrap();
                let table = txn.open_table(articles_table::<K>()).unwrap();
                Self::read_one(&table, *id)
            })
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(articles_table::<K>()).unwrap();
        let terms = txn.open_table(terms_table::<K>()).unwrap();
        let mut sum = 0u64;
        let mut ids = Vec::with_capacity(30);
        let mut page = Vec::with_capacity(30);
        for cat in categories {
            let (lo, hi) = term_range(*cat);
            ids.clear();
            for entry in terms
                .range((Bound::Included(&lo[..]), Bound::Excluded(&hi[..])))
                .unwrap()
                .rev()
                .take(30)
            {
                let (k, _) = entry.unwrap();
                ids.push(term_target(k.value()));
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
        let counts = txn.open_table(counts_table::<K>()).unwrap();
        categories
            .iter()
            .map(|cat| read_count(counts.get(&cat.to_be_bytes()[..]).unwrap()))
            .sum()
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(RawReader::<K> {
            db: &self.db,
            keys: PhantomData,
        })
    }
}

struct RawReader<'a, K> {
    db: &'a redb::Database,
    keys: PhantomData<fn() -> K>,
}

impl<K: ByteKey> Reader for RawReader<'_, K> {
    fn read_batch(&mut self, ids: &[i64]) -> usize {
        let txn = self.db.begin_read().unwrap();
        let table = txn.open_table(articles_table::<K>()).unwrap();
        ids.iter()
            .filter(|id| RawRedb::<K>::read_article(&table, **id).is_some_and(|a| a.id == **id))
            .count()
    }
}
