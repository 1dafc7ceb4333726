//! The benchmark article of `shared/bench/articles.md`, shared by the vpack
//! benchmark and the allocation test.

/// `Article::pack` (derived) and `pack_article` (by hand) write the same
/// bytes; the benchmark compares them.
#[derive(vpack::Pack, Debug, Clone, PartialEq)]
#[pack(version = 1)]
pub struct Article {
    pub id: i64,
    pub author_id: i64,
    pub published: i64,
    pub category_ids: Vec<i64>,
    pub title: String,
    pub body: String,
}

pub fn pack_article(a: &mut Article, buf: &mut vpack::Buffer) {
    vpack::version(1, buf);
    vpack::int(&mut a.id, buf);
    vpack::int(&mut a.author_id, buf);
    vpack::int(&mut a.published, buf);
    vpack::vec(&mut a.category_ids, buf, vpack::int);
    vpack::string(&mut a.title, buf);
    vpack::string(&mut a.body, buf);
}

#[allow(dead_code)] // used by some of the test binaries that include this module
pub fn sample_article() -> Article {
    Article {
        id: 123_456,
        author_id: 4321,
        published: 1_700_000_000 + 123_456 * 60 + 17,
        category_ids: vec![7, 42, 99],
        title: "A representative title of forty bytes!!".into(),
        body: "lorem ipsum dolor sit amet ".repeat(19),
    }
}
