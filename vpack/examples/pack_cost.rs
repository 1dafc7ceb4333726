//! Counts the instructions of a hand-written and a derived pack function
//! packing and unpacking the same article, for the claim that derive costs
//! nothing. Run under callgrind, once per function:
//!
//! ```text
//! cargo build --release -p vpack --example pack_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='pack_cost::hand_*' target/release/examples/pack_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='pack_cost::derived_*' target/release/examples/pack_cost
//! ```
//!
//! Each prints (on stderr) the instructions collected: 1,000 packs and
//! 1,000 unpacks.

#[path = "../tests/common/article.rs"]
mod article;

use std::hint::black_box;

use article::{Article, pack_article, sample_article};
use vpack::Pack;

const ROUNDS: usize = 1_000;

#[inline(never)]
fn hand_rounds(a: &mut Article, out: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for _ in 0..ROUNDS {
        out.clear();
        vpack::append_bytes(black_box(&mut *a), pack_article, out).unwrap();
        let back: Article = vpack::from_bytes(black_box(out), pack_article).unwrap();
        total += back.body.len();
    }
    total
}

#[inline(never)]
fn derived_rounds(a: &mut Article, out: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for _ in 0..ROUNDS {
        out.clear();
        vpack::append_bytes(black_box(&mut *a), Article::pack, out).unwrap();
        let back = Article::from_bytes(black_box(out)).unwrap();
        total += back.body.len();
    }
    total
}

fn main() {
    let mut out = Vec::with_capacity(1024);
    let mut hand = sample_article();
    let mut derive = sample_article();
    let a = hand_rounds(&mut hand, &mut out);
    let b = derived_rounds(&mut derive, &mut out);
    assert_eq!(a, b);
    println!("{} bytes per article, both ways", out.len());
}
