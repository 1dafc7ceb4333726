//! native_db: typed models with keys, on redb (its own redb 2.x).
//!
//! The articles are one model keyed by id. native_db's secondary keys hold
//! one value per item, so the category index is what its users write for a
//! many-to-many link: a model whose primary key is `(category, published,
//! id)`, read as a reverse range scan; plus one count per category kept in
//! the writing transaction. Items are serialized by native_model (bincode).

use std::path::Path;
use std::sync::LazyLock;

use native_db::{Builder, Database, Models, ToKey, native_db};
use native_model::{Model, native_model};
use serde::{Deserialize, Serialize};

use super::{Reader, System, article_sum};
use crate::workload::Article;

#[derive(Serialize, Deserialize, Debug)]
#[native_model(id = 1, version = 1)]
#[native_db]
struct NArticle {
    #[primary_key]
    id: i64,
    author_id: i64,
    published: i64,
    category_ids: Vec<i64>,
    title: String,
    body: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[native_model(id = 2, version = 1)]
#[native_db]
struct CatArt {
    #[primary_key]
    key: (i64, i64, i64),
}

#[derive(Serialize, Deserialize, Debug)]
#[native_model(id = 3, version = 1)]
#[native_db]
struct CatCount {
    #[primary_key]
    cat: i64,
    n: u64,
}

impl From<Article> for NArticle {
    fn from(a: Article) -> NArticle {
        let Article {
            id,
            author_id,
            published,
            category_ids,
            title,
            body,
        } = a;
        NArticle {
            id,
            author_id,
            published,
            category_ids,
            title,
            body,
        }
    }
}

impl From<NArticle> for Article {
    fn from(a: NArticle) -> Article {
        Article {
            id: a.id,
            author_id: a.author_id,
            published: a.published,
            category_ids: a.category_ids,
            title: a.title,
            body: a.body,
        }
    }
}

static MODELS: LazyLock<Models> = LazyLock::new(|| {
    let mut models = Models::new();
    models.define::<NArticle>().unwrap();
    models.define::<CatArt>().unwrap();
    models.define::<CatCount>().unwrap();
    models
});

pub struct NativeDb {
    db: Database<'static>,
}

fn read_sum(r: &native_db::transaction::RTransaction, id: i64) -> u64 {
    r.get()
        .primary::<NArticle>(id)
        .unwrap()
        .map_or(0, |a| article_sum(&a.into()))
}

impl NativeDb {
    pub fn open(dir: &Path) -> NativeDb {
        NativeDb {
            db: Builder::new()
                .create(&MODELS, dir.join("native.db"))
                .unwrap(),
        }
    }
}

impl System for NativeDb {
    fn write(&self, articles: &[Article]) {
        let rw = self.db.rw_transaction().unwrap();
        for a in articles {
            for &cat in &a.category_ids {
                rw.insert(CatArt {
                    key: (cat, a.published, a.id),
                })
                .unwrap();
                let n = rw
                    .get()
                    .primary::<CatCount>(cat)
                    .unwrap()
                    .map_or(0, |c| c.n);
                rw.upsert(CatCount { cat, n: n + 1 }).unwrap();
            }
            rw.insert(NArticle::from(a.clone())).unwrap();
        }
        rw.commit().unwrap();
    }
    fn point_reads(&self, ids: &[i64]) -> u64 {
        let r = self.db.r_transaction().unwrap();
        ids.iter()
            .map(|id| read_sum(&r, *id))
            .fold(0, u64::wrapping_add)
    }
    fn point_reads_tx(&self, ids: &[i64]) -> u64 {
        ids.iter()
            .map(|id| read_sum(&self.db.r_transaction().unwrap(), *id))
            .fold(0, u64::wrapping_add)
    }
    fn page_queries(&self, categories: &[i64]) -> u64 {
        let r = self.db.r_transaction().unwrap();
        let mut sum = 0u64;
        let mut page: Vec<Article> = Vec::with_capacity(30);
        for &cat in categories {
            let links = r.scan().primary::<CatArt>().unwrap();
            let newest = links
                .range((cat, 0i64, 0i64)..=(cat, i64::MAX, i64::MAX))
                .unwrap()
                .rev()
                .take(30);
            page.clear();
            for link in newest {
                let id = link.unwrap().key.2;
                if let Some(a) = r.get().primary::<NArticle>(id).unwrap() {
                    page.push(a.into());
                }
            }
            sum = page.iter().map(article_sum).fold(sum, u64::wrapping_add);
        }
        sum
    }
    fn counts(&self, categories: &[i64]) -> u64 {
        let r = self.db.r_transaction().unwrap();
        categories
            .iter()
            .map(|&cat| r.get().primary::<CatCount>(cat).unwrap().map_or(0, |c| c.n))
            .sum()
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(NativeReader { db: &self.db })
    }
}

struct NativeReader<'a> {
    db: &'a Database<'static>,
}

impl Reader for NativeReader<'_> {
    fn read_batch(&mut self, ids: &[i64]) -> usize {
        let r = self.db.r_transaction().unwrap();
        ids.iter()
            .filter(|&&id| {
                r.get()
                    .primary::<NArticle>(id)
                    .unwrap()
                    .is_some_and(|a| a.id == id)
            })
            .count()
    }
}
