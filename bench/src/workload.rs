//! The articles workload of `shared/bench/articles.md`: deterministic data,
//! the article type and its pack function, and the query mix.

/// A deterministic xorshift generator, so every system sees the same data
/// and the same queries.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
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

pub const CATEGORIES: i64 = 100;

fn text(rng: &mut Rng, len: usize) -> String {
    const WORDS: [&str; 8] = [
        "lorem", "ipsum", "dolor", "sit", "amet", "vbolt", "pack", "index",
    ];
    let mut s = String::with_capacity(len + 8);
    while s.len() < len {
        s.push_str(WORDS[(rng.next() % 8) as usize]);
        s.push(' ');
    }
    s.truncate(len);
    s
}

/// Article `id` of the data set (the same for every system).
pub fn article(id: i64) -> Article {
    let mut rng = Rng::new(0xA57C_1E00 ^ id as u64);
    let mut cats = Vec::with_capacity(3);
    while cats.len() < 3 {
        let c = rng.range(1, CATEGORIES);
        if !cats.contains(&c) {
            cats.push(c);
        }
    }
    Article {
        id,
        author_id: rng.range(1, 5000),
        published: 1_700_000_000 + id * 60 + rng.range(0, 59),
        category_ids: cats,
        title: text(&mut rng, 40),
        body: text(&mut rng, 500),
    }
}
