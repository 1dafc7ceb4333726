//! Packing and unpacking the benchmark article (`shared/bench/articles.md`).
//!
//! Run: `cargo bench -p vpack --bench article`
//! Divan's allocation profiler prints allocations per operation beside the time.

#[path = "../tests/common/article.rs"]
mod article;

use article::{Article, pack_article, sample_article};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

#[divan::bench]
fn pack_into_reused_buffer(bencher: divan::Bencher) {
    let mut a = sample_article();
    let mut out = Vec::with_capacity(1024);
    bencher.bench_local(|| {
        out.clear();
        vpack::append_bytes(divan::black_box(&mut a), pack_article, &mut out).unwrap();
        out.len()
    });
}

#[divan::bench]
fn unpack_fresh(bencher: divan::Bencher) {
    let bytes = vpack::to_bytes(&mut sample_article(), pack_article).unwrap();
    bencher.bench_local(|| {
        vpack::from_bytes::<Article>(divan::black_box(&bytes), pack_article).unwrap()
    });
}

#[divan::bench]
fn unpack_into_reused_value(bencher: divan::Bencher) {
    let bytes = vpack::to_bytes(&mut sample_article(), pack_article).unwrap();
    let mut a = Article::default();
    bencher.bench_local(|| {
        let mut r = vpack::Buffer::reader(divan::black_box(&bytes));
        pack_article(&mut a, &mut r);
        r.finish().unwrap()
    });
}
