//! The iterators against the callback forms on the same data: a whole
//! bucket, a whole term, and one 30-target page.
//!
//! Run: `cargo bench -p vbolt --bench iterate`.

use vbolt::*;

fn main() {
    divan::main();
}

static NUMS: Bucket<u64, u64> = Bucket::new("nums", vpack::key::fuint(), vpack::uint);
static BY_CAT: Index<u64, u64, i64> = Index::with_priority(
    "by_cat",
    vpack::key::fuint(),
    vpack::key::fuint(),
    vpack::key::fint_ord(),
);

const N: u64 = 10_000;

fn db() -> Db {
    let db = Db::in_memory().unwrap();
    db.update(|tx| {
        for i in 1..=N {
            write(tx, &NUMS, i, &mut (i * 7));
            set_target_single_term_ext(tx, &BY_CAT, i, 1, i as i64);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    db
}

#[divan::bench_group(sample_count = 50)]
mod bucket_10k {
    use super::*;

    #[divan::bench]
    fn callback(b: divan::Bencher) {
        let db = db();
        let tx = db.read_tx().unwrap();
        b.bench_local(|| {
            let mut sum = 0u64;
            iterate_all(&tx, &NUMS, |_, v| {
                sum = sum.wrapping_add(v);
                true
            })
            .unwrap();
            sum
        });
    }

    #[divan::bench]
    fn iterator(b: divan::Bencher) {
        let db = db();
        let tx = db.read_tx().unwrap();
        b.bench_local(|| {
            entries(&tx, &NUMS).try_fold(0u64, |sum, e| e.map(|(_, v)| sum.wrapping_add(v)))
        });
    }
}

#[divan::bench_group(sample_count = 50)]
mod term_10k {
    use super::*;

    #[divan::bench]
    fn callback(b: divan::Bencher) {
        let db = db();
        let tx = db.read_tx().unwrap();
        let w = Window::new();
        b.bench_local(|| {
            let mut sum = 0u64;
            iterate_term(&tx, &BY_CAT, 1, &w, |k, _| {
                sum = sum.wrapping_add(k);
                true
            })
            .unwrap();
            sum
        });
    }

    #[divan::bench]
    fn iterator(b: divan::Bencher) {
        let db = db();
        let tx = db.read_tx().unwrap();
        let w = Window::new();
        b.bench_local(|| {
            term_targets(&tx, &BY_CAT, 1, &w)
                .try_fold(0u64, |sum, e| e.map(|(k, _)| sum.wrapping_add(k)))
        });
    }
}

#[divan::bench_group(sample_count = 200)]
mod page_of_30 {
    use super::*;

    #[divan::bench]
    fn callback(b: divan::Bencher) {
        let db = db();
        let tx = db.read_tx().unwrap();
        let w = Window::new().limit(30).reverse();
        b.bench_local(|| {
            let mut sum = 0u64;
            iterate_term(&tx, &BY_CAT, 1, &w, |k, _| {
                sum = sum.wrapping_add(k);
                true
            })
            .unwrap();
            sum
        });
    }

    #[divan::bench]
    fn iterator(b: divan::Bencher) {
        let db = db();
        let tx = db.read_tx().unwrap();
        let w = Window::new().limit(30).reverse();
        b.bench_local(|| {
            term_targets(&tx, &BY_CAT, 1, &w)
                .try_fold(0u64, |sum, e| e.map(|(k, _)| sum.wrapping_add(k)))
        });
    }
}
