//! vbolt, through its public API exactly as an application uses it.

use std::path::Path;

use vbolt::{Bucket, Db, Index, Options, Subscription, Topic, Window};

use super::{Reader, System, Writer, article_sum};
use crate::workload::{Article, CATEGORIES, pack_article};

static ARTICLES: Bucket<i64, Article> =
    Bucket::new("articles", vpack::key::fint_non_negative(), pack_article);
/// The same articles with a CRC-32 after each value (`vpack::checked`).
static ARTICLES_CHECKED: Bucket<i64, Article> = Bucket::new(
    "articles",
    vpack::key::fint_non_negative(),
    pack_article_checked,
);

fn pack_article_checked(a: &mut Article, buf: &mut vpack::Buffer) {
    vpack::checked(a, buf, pack_article);
}

/// The articles bucket: checksummed values when `CHECKED`. A constant, so
/// each variant compiles to a direct reference to its `static`.
const fn bucket<const CHECKED: bool>() -> &'static Bucket<i64, Article> {
    if CHECKED {
        &ARTICLES_CHECKED
    } else {
        &ARTICLES
    }
}
static CAT_ART: Index<i64, i64, i64> = Index::with_priority(
    "cat_art",
    vpack::key::fint_non_negative(),
    vpack::key::fint_non_negative(),
    vpack::key::fint_ord(),
);

/// vbolt; `CHECKED`: every article stored with a checksum.
pub struct Vbolt<const CHECKED: bool = false> {
    db: Db,
    /// What must outlive the database (the etcd cluster of a run).
    _keep: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// Commit notifications kept live during the run.
    _subscriptions: Vec<Subscription>,
    /// The writers figure's threads write through `Db::batch` (closures
    /// that own their article) instead of `Db::update`.
    batch: bool,
}

impl<const CHECKED: bool> Vbolt<CHECKED> {
    pub fn open(dir: &Path) -> Vbolt<CHECKED> {
        Vbolt {
            db: Db::open(dir.join("vbolt.db")).unwrap(),
            _keep: None,
            _subscriptions: Vec::new(),
            batch: false,
        }
    }

    /// vbolt whose concurrent writers use `Db::batch`: each thread's
    /// closure owns a clone of its article (the `update` writer clones it
    /// too, inside its closure), so whichever thread holds the group's
    /// transaction runs it.
    pub fn with_batch(dir: &Path) -> Vbolt<CHECKED> {
        Vbolt {
            batch: true,
            ..Vbolt::open(dir)
        }
    }

    /// vbolt committing through its write-ahead log
    /// (`Options::write_ahead_log`); `batch` as in [`Vbolt::with_batch`].
    pub fn with_wal(dir: &Path, batch: bool) -> Vbolt<CHECKED> {
        let options = Options::new().write_ahead_log(true);
        Vbolt {
            db: Db::open_with(dir.join("vbolt.db"), options).unwrap(),
            _keep: None,
            _subscriptions: Vec::new(),
            batch,
        }
    }

    /// vbolt with `n` live subscriptions, as a server with `n` connected
    /// clients would have: subscription `i` watches category `1 + i % 100`
    /// (so every commit wakes about 3% of them) and an article that is
    /// never written. Nobody drains them: their changes coalesce, which is
    /// the most a commit can be asked to do for them.
    pub fn with_subscribers(dir: &Path, n: usize) -> Vbolt<CHECKED> {
        let db = Db::open(dir.join("vbolt.db")).unwrap();
        let subscriptions = (0..n as i64)
            .map(|i| {
                db.subscribe([
                    Topic::term(&CAT_ART, 1 + i % CATEGORIES).unwrap(),
                    Topic::key(bucket::<CHECKED>(), 1_000_000_000 + i).unwrap(),
                ])
            })
            .collect();
        Vbolt {
            db,
            _keep: None,
            _subscriptions: subscriptions,
            batch: false,
        }
    }

    /// The same code on an etcd cluster (see `systems/etcd.rs`).
    #[cfg(feature = "etcd")]
    pub fn on_etcd() -> Vbolt<CHECKED> {
        let cluster = super::etcd::Cluster::get();
        let prefix = super::etcd::fresh_prefix("vbolt");
        let options = vbolt::EtcdOptions::new().max_txn_ops(cluster.max_txn_ops());
        Vbolt {
            db: Db::open_etcd_with(cluster.endpoints(), &prefix, options).unwrap(),
            _keep: Some(Box::new(cluster)),
            _subscriptions: Vec::new(),
            batch: false,
        }
    }
}

fn read_sum<const CHECKED: bool>(tx: &vbolt::ReadTx, id: i64, a: &mut Article) -> u64 {
    if vbolt::read(tx, bucket::<CHECKED>(), id, a) {
        article_sum(a)
    } else {
        0
    }
}

impl<const CHECKED: bool> System for Vbolt<CHECKED> {
    fn write(&self, articles: &[Article]) {
        let mut tx = self.db.write_tx().unwrap();
        // On etcd, one request for every article's current categories and
        // one for the categories' counts; nothing on the embedded engine.
        vbolt::prefetch_targets(&mut tx, &CAT_ART, articles.iter().map(|a| a.id));
        vbolt::prefetch_terms(
            &mut tx,
            &CAT_ART,
            articles.iter().flat_map(|a| &a.category_ids),
        );
        for a in articles {
            let mut a = a.clone();
            vbolt::write(&mut tx, bucket::<CHECKED>(), a.id, &mut a);
            vbolt::set_target_terms_uniform(&mut tx, &CAT_ART, a.id, &a.category_ids, a.published);
        }
        tx.commit().unwrap();
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let tx = self.db.read_tx().unwrap();
        let mut a = Article::default();
        ids.iter()
            .map(|id| read_sum::<CHECKED>(&tx, *id, &mut a))
            .fold(0, u64::wrapping_add)
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        let mut a = Article::default();
        ids.iter()
            .map(|id| read_sum::<CHECKED>(&self.db.read_tx().unwrap(), *id, &mut a))
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let tx = self.db.read_tx().unwrap();
        let window = Window::new().limit(30).reverse();
        let mut ids = Vec::with_capacity(30);
        let mut page = Vec::with_capacity(30);
        let mut sum = 0u64;
        for cat in categories {
            ids.clear();
            page.clear();
            vbolt::read_term_targets(&tx, &CAT_ART, cat, &mut ids, &window).unwrap();
            vbolt::read_slice(&tx, bucket::<CHECKED>(), &ids, &mut page).unwrap();
            sum = page.iter().map(article_sum).fold(sum, u64::wrapping_add);
        }
        sum
    }
    fn counts(&self, categories: &[i64]) -> u64 {
        let tx = self.db.read_tx().unwrap();
        categories
            .iter()
            .map(|c| vbolt::read_term_count(&tx, &CAT_ART, c).unwrap() as u64)
            .sum()
    }
    fn writer(&self) -> Option<Box<dyn Writer + '_>> {
        Some(Box::new(VboltWriter::<CHECKED> {
            db: &self.db,
            batch: self.batch,
        }))
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(VboltReader::<CHECKED> {
            db: &self.db,
            article: Article::default(),
        })
    }
}

struct VboltReader<'a, const CHECKED: bool> {
    db: &'a Db,
    article: Article,
}

impl<const CHECKED: bool> Reader for VboltReader<'_, CHECKED> {
    fn read_batch(&mut self, ids: &[i64]) -> usize {
        let tx = self.db.read_tx().unwrap();
        ids.iter()
            .filter(|id| {
                vbolt::read(&tx, bucket::<CHECKED>(), *id, &mut self.article)
                    && self.article.id == **id
            })
            .count()
    }
}

/// Concurrent writers through `Db::update` (or `Db::batch`), which groups
/// their commits.
struct VboltWriter<'a, const CHECKED: bool> {
    db: &'a Db,
    batch: bool,
}

impl<const CHECKED: bool> Writer for VboltWriter<'_, CHECKED> {
    fn commit(&mut self, article: &Article) {
        if self.batch {
            let mut a = article.clone();
            self.db
                .batch(move |tx| {
                    vbolt::write(tx, bucket::<CHECKED>(), a.id, &mut a);
                    vbolt::set_target_terms_uniform(
                        tx,
                        &CAT_ART,
                        a.id,
                        &a.category_ids,
                        a.published,
                    );
                    Ok::<_, vbolt::Error>(())
                })
                .unwrap();
            return;
        }
        self.db
            .update(|tx| {
                let mut a = article.clone();
                vbolt::write(tx, bucket::<CHECKED>(), a.id, &mut a);
                vbolt::set_target_terms_uniform(tx, &CAT_ART, a.id, &a.category_ids, a.published);
                Ok::<_, vbolt::Error>(())
            })
            .unwrap();
    }
}
