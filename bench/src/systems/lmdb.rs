//! LMDB through heed, with hand-written keys: an engine reference, not a
//! layer. LMDB is a mature B+tree store known for its read speed: it maps
//! the file into memory and reads pages where they lie, with no cache
//! between a lookup and the page. Its row shows what the engine alone decides (tree depth, the cost
//! of visiting a page) when vbolt, on redb, is compared with SQLite.
//!
//! Same work and layout as `raw redb`: term entries `cat|published(ord)|id`,
//! target entries `id|cat`, counts `cat`, all big-endian so LMDB's default
//! byte-order comparison sorts them; every commit durable (LMDB syncs the
//! file on commit unless told not to, and is not told here).

use std::ops::Bound;
use std::path::Path;

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvOpenOptions};

use super::hand_keys::{TERM_VALUE, count_of, ord, target_key, term_key, term_range, term_target};
use super::{Reader, System, article_sum};
use crate::workload::{Article, pack_article};

type Table = Database<'static, Bytes, Bytes>;

/// The four tables, opened once for the environment's life.
#[derive(Clone, Copy)]
struct Tables {
    articles: Table,
    terms: Table,
    targets: Table,
    counts: Table,
}

pub struct Lmdb {
    env: &'static Env,
    tables: Tables,
}

fn read_article(txn: &heed::RoTxn, table: Table, id: i64) -> Option<Article> {
    table
        .get(txn, &id.to_be_bytes())
        .unwrap()
        .map(|v| vpack::from_bytes(v, pack_article).unwrap())
}

fn read_one(txn: &heed::RoTxn, table: Table, id: i64) -> u64 {
    read_article(txn, table, id).as_ref().map_or(0, article_sum)
}

impl Lmdb {
    pub fn open(dir: &Path) -> Lmdb {
        let mut options = EnvOpenOptions::new();
        // Address space reserved for the map, not memory: the file grows as
        // pages are written. 4 GiB is many times the workload's file.
        options.map_size(4 << 30).max_dbs(4);
        // SAFETY: LMDB's map is undefined behaviour only if the file is
        // changed outside LMDB while mapped; `dir` is a fresh directory of
        // this run (its files: `data.mdb`, `lock.mdb`) that only this
        // environment opens. The environment is leaked so that its tables,
        // which borrow it, live as long as the process: one system's run.
        #[allow(unsafe_code)]
        let env = unsafe { options.open(dir) }.unwrap();
        let env: &'static Env = Box::leak(Box::new(env));
        let names = ["articles", "cat_art", "cat_art_targets", "cat_art_counts"];
        let wtxn = env.write_txn().unwrap();
        let [articles, terms, targets, counts] = env
            .create_databases_and_commit(wtxn, |opener, wtxn| {
                let [a, b, c, d] = names.map(|name| opener.create_database(wtxn, Some(name)));
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit([a?, b?, c?, d?]))
            })
            .unwrap()
            .unwrap_commit();
        let tables = Tables {
            articles,
            terms,
            targets,
            counts,
        };
        Lmdb { env, tables }
    }
}

impl System for Lmdb {
    fn write(&self, articles: &[Article]) {
        let t = self.tables;
        let mut wtxn = self.env.write_txn().unwrap();
        let mut value = Vec::with_capacity(1024);
        for a in articles {
            value.clear();
            vpack::append_bytes(&mut a.clone(), pack_article, &mut value).unwrap();
            t.articles
                .put(&mut wtxn, &a.id.to_be_bytes(), &value)
                .unwrap();
            for cat in &a.category_ids {
                let key = term_key(*cat, a.published, a.id);
                t.terms.put(&mut wtxn, &key, &TERM_VALUE).unwrap();
                let rkey = target_key(a.id, *cat);
                t.targets.put(&mut wtxn, &rkey, &ord(a.published)).unwrap();
                let ckey = cat.to_be_bytes();
                let n = count_of(t.counts.get(&wtxn, &ckey).unwrap());
                t.counts
                    .put(&mut wtxn, &ckey, &(n + 1).to_be_bytes())
                    .unwrap();
            }
        }
        wtxn.commit().unwrap();
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let txn = self.env.read_txn().unwrap();
        ids.iter()
            .map(|id| read_one(&txn, self.tables.articles, *id))
            .fold(0, u64::wrapping_add)
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        ids.iter()
            .map(|id| read_one(&self.env.read_txn().unwrap(), self.tables.articles, *id))
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let t = self.tables;
        let txn = self.env.read_txn().unwrap();
        let mut sum = 0u64;
        let mut ids = Vec::with_capacity(30);
        let mut page = Vec::with_capacity(30);
        for cat in categories {
            let (lo, hi) = term_range(*cat);
            let range = (Bound::Included(&lo[..]), Bound::Excluded(&hi[..]));
            ids.clear();
            for entry in t.terms.rev_range(&txn, &range).unwrap().take(30) {
                let (k, _) = entry.unwrap();
                ids.push(term_target(k));
            }
            page.clear();
            page.extend(
                ids.iter()
                    .filter_map(|id| read_article(&txn, t.articles, *id)),
            );
            sum = page.iter().map(article_sum).fold(sum, u64::wrapping_add);
        }
        sum
    }
    fn counts(&self, categories: &[i64]) -> u64 {
        let txn = self.env.read_txn().unwrap();
        categories
            .iter()
            .map(|cat| count_of(self.tables.counts.get(&txn, &cat.to_be_bytes()).unwrap()))
            .sum()
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(LmdbReader {
            env: self.env,
            articles: self.tables.articles,
        })
    }
}

struct LmdbReader {
    env: &'static Env,
    articles: Table,
}

impl Reader for LmdbReader {
    fn read_batch(&mut self, ids: &[i64]) -> usize {
        let txn = self.env.read_txn().unwrap();
        ids.iter()
            .filter(|id| read_article(&txn, self.articles, **id).is_some_and(|a| a.id == **id))
            .count()
    }
}
