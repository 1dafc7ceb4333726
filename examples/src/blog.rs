//! A blog on vbolt: articles in many categories, categories with many
//! articles, and a paged "latest in category" listing built from
//! precomputed summaries.
//!
//! The article is the target and the category the term: an article names a
//! few categories (stored on the article), a category gathers thousands of
//! articles (found through the index).

use std::time::SystemTime;

use vbolt::{Bucket, Cursor, Error, Index, Info, Readable, Window, WriteTx};
use vpack::Pack;

/// A category of articles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Category {
    /// The category's id.
    pub id: u32,
    /// Its display name.
    pub name: String,
}

/// A full article: what the article page shows.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct Article {
    /// The article's id.
    pub id: u64,
    /// The headline.
    pub title: String,
    /// The full text.
    pub body: String,
    /// The categories it appears in; the index is derived from this field.
    pub category_ids: Vec<u32>,
    /// When it was published (whole seconds, as Go's `UnixTime`).
    #[pack(with = vpack::unix_time)]
    pub published: SystemTime,
}

/// What a listing shows of an article, computed once when it is saved so a
/// listing never loads (or summarizes) whole articles.
#[derive(Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct ArticleSummary {
    /// Same id as the article.
    pub id: u64,
    /// The headline.
    pub title: String,
    /// The first words of the body.
    pub teaser: String,
    /// When it was published (whole seconds, as Go's `UnixTime`).
    #[pack(with = vpack::unix_time)]
    pub published: SystemTime,
}

/// Packs a [`Category`] (by hand; `Article` and `ArticleSummary` derive
/// theirs, the same calls for their fields).
pub fn pack_category(c: &mut Category, buf: &mut vpack::Buffer) {
    vpack::version(1, buf);
    vpack::uint(&mut c.id, buf);
    vpack::string(&mut c.name, buf);
}

/// Categories by id.
pub static CATEGORIES: Bucket<u32, Category> =
    Bucket::new("categories", vpack::key::fuint(), pack_category);
/// Articles by id; `fuint` keys iterate in id order.
pub static ARTICLES: Bucket<u64, Article> =
    Bucket::new("articles", vpack::key::fuint(), Article::pack);
/// Summaries by article id, precomputed on every save.
pub static SUMMARIES: Bucket<u64, ArticleSummary> = Bucket::new(
    "article_summaries",
    vpack::key::fuint(),
    ArticleSummary::pack,
);
/// Term: category. Target: article. Priority: publication time, as an
/// order-preserving timestamp, so a reverse window lists the latest first.
pub static CATEGORY_ARTICLES: Index<u32, u64, SystemTime> = Index::with_priority(
    "category_articles",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::unix_time_ord(),
);
/// Every declaration.
pub static INFO: Info = Info::new(&[&CATEGORIES, &ARTICLES, &SUMMARIES, &CATEGORY_ARTICLES]);

/// The summary of an article: its title and first 12 words.
pub fn summarize(a: &Article) -> ArticleSummary {
    let teaser = a
        .body
        .split_whitespace()
        .take(12)
        .collect::<Vec<_>>()
        .join(" ");
    ArticleSummary {
        id: a.id,
        title: a.title.clone(),
        teaser,
        published: a.published,
    }
}

/// Creates a category.
pub fn create_category(tx: &mut WriteTx, name: &str) -> Category {
    let mut c = Category {
        id: vbolt::next_int_id(tx, &CATEGORIES),
        name: name.into(),
    };
    vbolt::write(tx, &CATEGORIES, c.id, &mut c);
    c
}

/// Saves an article (new when its id is 0): the article, its summary and
/// its categories in the index, in one transaction.
pub fn save_article(tx: &mut WriteTx, mut article: Article) -> Article {
    if article.id == 0 {
        article.id = vbolt::next_int_id(tx, &ARTICLES);
    }
    vbolt::write(tx, &ARTICLES, article.id, &mut article);
    vbolt::write(tx, &SUMMARIES, article.id, &mut summarize(&article));
    vbolt::set_target_terms_uniform(
        tx,
        &CATEGORY_ARTICLES,
        article.id,
        &article.category_ids,
        article.published,
    );
    article
}

/// Deletes an article with its summary and index entries.
pub fn delete_article(tx: &mut WriteTx, id: u64) {
    vbolt::delete(tx, &ARTICLES, id);
    vbolt::delete(tx, &SUMMARIES, id);
    vbolt::delete_target_terms(tx, &CATEGORY_ARTICLES, id);
}

/// One page of a category listing.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryPage {
    /// The latest articles first.
    pub summaries: Vec<ArticleSummary>,
    /// How many articles the category has in all.
    pub total: usize,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// The latest articles of a category, `limit` per page.
pub fn latest_in_category(
    tx: &impl Readable,
    category: u32,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<CategoryPage, Error> {
    let window = Window::new().limit(limit).cursor(cursor).reverse();
    let mut ids = Vec::with_capacity(limit);
    let next = vbolt::read_term_targets(tx, &CATEGORY_ARTICLES, category, &mut ids, &window)?;
    let mut summaries = Vec::with_capacity(ids.len());
    vbolt::read_slice(tx, &SUMMARIES, &ids, &mut summaries)?;
    Ok(CategoryPage {
        summaries,
        total: vbolt::read_term_count(tx, &CATEGORY_ARTICLES, category)?,
        next,
    })
}

/// The names of an article's categories. The article is the source of
/// truth for them; the index only answers the other direction.
pub fn categories_of(tx: &impl Readable, article: u64) -> Result<Vec<String>, Error> {
    let Some(a) = vbolt::get(tx, &ARTICLES, article)? else {
        return Ok(Vec::new());
    };
    let mut cats = Vec::new();
    vbolt::read_slice(tx, &CATEGORIES, &a.category_ids, &mut cats)?;
    Ok(cats.into_iter().map(|c| c.name).collect())
}
