//! Packing and unpacking the benchmark article (`shared/bench/articles.md`).
//!
//! Run: `cargo bench -p vpack --bench article`
//! Divan's allocation profiler prints allocations per operation beside the time.
//! Each operation is measured twice: with the hand-written pack function
//! (`hand`) and with the one `#[derive(Pack)]` generates (`derived`), which
//! write the same bytes.

#[path = "../tests/common/article.rs"]
mod article;

use article::{Article, pack_article, sample_article};
use vpack::Pack;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

#[divan::bench]
fn hand_pack_into_reused_buffer(bencher: divan::Bencher) {
    let mut a = sample_article();
    let mut out = Vec::with_capacity(1024);
    bencher.bench_local(|| {
        out.clear();
        vpack::append_bytes(divan::black_box(&mut a), pack_article, &mut out).unwrap();
        out.len()
    });
}

#[divan::bench]
fn hand_unpack_fresh(bencher: divan::Bencher) {
    let bytes = vpack::to_bytes(&mut sample_article(), pack_article).unwrap();
    bencher.bench_local(|| {
        vpack::from_bytes::<Article>(divan::black_box(&bytes), pack_article).unwrap()
    });
}

#[divan::bench]
fn hand_unpack_into_reused_value(bencher: divan::Bencher) {
    let bytes = vpack::to_bytes(&mut sample_article(), pack_article).unwrap();
    let mut a = Article::default();
    bencher.bench_local(|| {
        let mut r = vpack::Buffer::reader(divan::black_box(&bytes));
        pack_article(&mut a, &mut r);
        r.finish().unwrap()
    });
}

#[divan::bench]
fn derived_pack_into_reused_buffer(bencher: divan::Bencher) {
    let mut a = sample_article();
    let mut out = Vec::with_capacity(1024);
    bencher.bench_local(|| {
        out.clear();
        vpack::append_bytes(divan::black_box(&mut a), Article::pack, &mut out).unwrap();
        out.len()
    });
}

#[divan::bench]
fn derived_unpack_fresh(bencher: divan::Bencher) {
    let bytes = sample_article().to_bytes().unwrap();
    bencher.bench_local(|| Article::from_bytes(divan::black_box(&bytes)).unwrap());
}

#[divan::bench]
fn derived_unpack_into_reused_value(bencher: divan::Bencher) {
    let bytes = sample_article().to_bytes().unwrap();
    let mut a = Article::blank();
    bencher.bench_local(|| {
        let mut r = vpack::Buffer::reader(divan::black_box(&bytes));
        a.pack(&mut r);
        r.finish().unwrap()
    });
}
