//! The workload on an etcd cluster (feature `etcd`): vbolt through
//! `Db::open_etcd`, and the same work written by hand on etcd-client, so
//! vbolt's layer cost on etcd is measured as it is on redb.
//!
//! Both run against a 3-member cluster on loopback ports that the run
//! starts from the `etcd` binary on `PATH` (and stops at its end), unless
//! `VBOLT_BENCH_ETCD` names the endpoints of a running one
//! (`http://127.0.0.1:2379,...`, started with `--max-txn-ops 2048`: a load
//! transaction writes 100 articles and their index entries); each run uses
//! a fresh key prefix.
//!
//! The hand-written program does what a competent etcd user would for the
//! same result, request for request where vbolt's layout allows: an article
//! `a/ID`, a term entry `t/CAT|PUBLISHED|ID` and a target entry `r/ID|CAT`
//! per category, a count `n/CAT`; reads at one pinned revision per read
//! transaction; a page is one descending range read of 30 keys and one
//! multi-key read; a write is one `Txn` guarded by the mod revisions of the
//! counts it read (per-key optimistic concurrency, retried on conflict).

use std::collections::BTreeMap;

use etcd_client::{
    Client, Compare, CompareOp, GetOptions, SortOrder, SortTarget, Txn, TxnOp, TxnOpResponse,
};

use super::hand_keys::{ord, target_key, term_key, term_target};
use super::{Reader, System, article_sum};
use crate::workload::{Article, pack_article};

#[path = "../../../vbolt/tests/etcd_cluster/mod.rs"]
#[allow(dead_code)] // the fault tests use the rest
mod etcd_cluster;

/// A cluster for one run: the one named by `VBOLT_BENCH_ETCD`, or one
/// started here (kept alive as long as the system).
pub struct Cluster {
    endpoints: Vec<String>,
    _started: Option<etcd_cluster::Cluster>,
}

impl Cluster {
    pub fn get() -> Cluster {
        match std::env::var("VBOLT_BENCH_ETCD") {
            Ok(list) => Cluster {
                endpoints: list.split(',').map(str::to_string).collect(),
                _started: None,
            },
            Err(_) => {
                let started = etcd_cluster::Cluster::start(3);
                Cluster {
                    endpoints: started.endpoints(),
                    _started: Some(started),
                }
            }
        }
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The cluster's `--max-txn-ops`, for the vbolt store to know it.
    pub fn max_txn_ops(&self) -> usize {
        etcd_cluster::MAX_TXN_OPS
    }
}

/// A key prefix no other run uses.
pub fn fresh_prefix(system: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{system}-{}-{nanos}/", std::process::id())
}

/// The hand-written program on etcd-client.
pub struct RawEtcd {
    runtime: tokio::runtime::Runtime,
    client: Client,
    prefix: Vec<u8>,
    _cluster: Cluster,
}

impl RawEtcd {
    pub fn open() -> RawEtcd {
        let cluster = Cluster::get();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let endpoints = cluster.endpoints().to_vec();
        let client = runtime.block_on(Client::connect(endpoints, None)).unwrap();
        RawEtcd {
            runtime,
            client,
            prefix: fresh_prefix("raw").into_bytes(),
            _cluster: cluster,
        }
    }

    fn key(&self, kind: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(kind);
        k.extend_from_slice(rest);
        k
    }

    /// The current revision (a read transaction's pin).
    fn revision(&self) -> i64 {
        let mut c = self.client.clone();
        let key = self.key(b"n/", &[]);
        self.runtime
            .block_on(async move { c.get(key, None).await })
            .unwrap()
            .header()
            .unwrap()
            .revision()
    }

    fn get_at(&self, key: Vec<u8>, revision: i64) -> Option<Vec<u8>> {
        let mut c = self.client.clone();
        let options = (revision > 0).then(|| GetOptions::new().with_revision(revision));
        let mut response = self
            .runtime
            .block_on(async move { c.get(key, options).await })
            .unwrap();
        response.take_kvs().pop().map(|kv| kv.into_key_value().1)
    }

    fn article_at(&self, id: i64, revision: i64) -> Option<Article> {
        let bytes = self.get_at(self.key(b"a/", &id.to_be_bytes()), revision)?;
        Some(vpack::from_bytes(&bytes, pack_article).unwrap())
    }
}

impl System for RawEtcd {
    fn write(&self, articles: &[Article]) {
        let cats: Vec<i64> = {
            let mut c: Vec<i64> = articles
                .iter()
                .flat_map(|a| a.category_ids.iter().copied())
                .collect();
            c.sort_unstable();
            c.dedup();
            c
        };
        loop {
            // The counts to update, with the revisions they were read at.
            let gets: Vec<TxnOp> = cats
                .iter()
                .map(|cat| TxnOp::get(self.key(b"n/", &cat.to_be_bytes()), None))
                .collect();
            let mut c = self.client.clone();
            let read = self
                .runtime
                .block_on(async move { c.txn(Txn::new().and_then(gets)).await })
                .unwrap();
            let mut counts: BTreeMap<i64, (u64, i64)> = BTreeMap::new();
            for (cat, op) in cats.iter().zip(read.op_responses()) {
                let (n, rev) = match op {
                    TxnOpResponse::Get(g) => g.kvs().first().map_or((0, 0), |kv| {
                        (
                            u64::from_be_bytes(kv.value().try_into().unwrap()),
                            kv.mod_revision(),
                        )
                    }),
                    _ => (0, 0),
                };
                counts.insert(*cat, (n, rev));
            }
            let compares: Vec<Compare> = counts
                .iter()
                .map(|(cat, (_, rev))| {
                    Compare::mod_revision(
                        self.key(b"n/", &cat.to_be_bytes()),
                        CompareOp::Equal,
                        *rev,
                    )
                })
                .collect();
            let mut ops = Vec::new();
            for a in articles {
                let mut value = Vec::with_capacity(1024);
                vpack::append_bytes(&mut a.clone(), pack_article, &mut value).unwrap();
                ops.push(TxnOp::put(
                    self.key(b"a/", &a.id.to_be_bytes()),
                    value,
                    None,
                ));
                for cat in &a.category_ids {
                    ops.push(TxnOp::put(
                        self.key(b"t/", &term_key(*cat, a.published, a.id)),
                        Vec::new(),
                        None,
                    ));
                    ops.push(TxnOp::put(
                        self.key(b"r/", &target_key(a.id, *cat)),
                        ord(a.published).to_vec(),
                        None,
                    ));
                    counts.get_mut(cat).unwrap().0 += 1;
                }
            }
            for (cat, (n, _)) in &counts {
                ops.push(TxnOp::put(
                    self.key(b"n/", &cat.to_be_bytes()),
                    n.to_be_bytes().to_vec(),
                    None,
                ));
            }
            let mut c = self.client.clone();
            let txn = Txn::new().when(compares).and_then(ops);
            let done = self
                .runtime
                .block_on(async move { c.txn(txn).await })
                .unwrap();
            if done.succeeded() {
                return;
            }
        }
    }

    fn point_reads(&self, ids: &[i64]) -> u64 {
        let rev = self.revision();
        ids.iter()
            .map(|id| self.article_at(*id, rev).map_or(0, |a| article_sum(&a)))
            .fold(0, u64::wrapping_add)
    }

    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        // A read on its own: the newest revision, no pin needed.
        ids.iter()
            .map(|id| self.article_at(*id, 0).map_or(0, |a| article_sum(&a)))
            .fold(0, u64::wrapping_add)
    }

    fn page_queries(&self, categories: &[i64]) -> u64 {
        let rev = self.revision();
        let mut sum = 0u64;
        for cat in categories {
            let start = self.key(b"t/", &cat.to_be_bytes());
            let end = self.key(b"t/", &(cat + 1).to_be_bytes());
            let skip = self.prefix.len() + 2;
            let options = GetOptions::new()
                .with_range(end)
                .with_revision(rev)
                .with_sort(SortTarget::Key, SortOrder::Descend)
                .with_limit(30)
                .with_keys_only();
            let mut c = self.client.clone();
            let page = self
                .runtime
                .block_on(async move { c.get(start, Some(options)).await })
                .unwrap();
            let gets: Vec<TxnOp> = page
                .kvs()
                .iter()
                .map(|kv| {
                    let id = term_target(&kv.key()[skip..]);
                    TxnOp::get(
                        self.key(b"a/", &id.to_be_bytes()),
                        Some(GetOptions::new().with_revision(rev)),
                    )
                })
                .collect();
            let mut c = self.client.clone();
            let articles = self
                .runtime
                .block_on(async move { c.txn(Txn::new().and_then(gets)).await })
                .unwrap();
            for op in articles.op_responses() {
                if let TxnOpResponse::Get(g) = op
                    && let Some(kv) = g.kvs().first()
                {
                    let a: Article = vpack::from_bytes(kv.value(), pack_article).unwrap();
                    sum = sum.wrapping_add(article_sum(&a));
                }
            }
        }
        sum
    }

    fn counts(&self, categories: &[i64]) -> u64 {
        let rev = self.revision();
        categories
            .iter()
            .map(|cat| {
                self.get_at(self.key(b"n/", &cat.to_be_bytes()), rev)
                    .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
            })
            .sum()
    }

    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(RawEtcdReader { sys: self })
    }
}

struct RawEtcdReader<'a> {
    sys: &'a RawEtcd,
}

impl Reader for RawEtcdReader<'_> {
    fn read_batch(&mut self, ids: &[i64]) -> usize {
        let rev = self.sys.revision();
        ids.iter()
            .filter(|id| self.sys.article_at(**id, rev).is_some_and(|a| a.id == **id))
            .count()
    }
}
