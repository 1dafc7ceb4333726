//! Allocation budget of key arguments, counted by a global allocator: a
//! `&str` key for a `String`-keyed bucket (and a `&[u8]` for a `Vec<u8>` one)
//! costs no allocation per call; only a `&String` (cloned) does.
//!
//! The counting allocator is the only `unsafe` in vbolt's tree: a test
//! harness that forwards to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use vbolt::*;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is a relaxed counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

static BY_NAME: Bucket<String, u64> = Bucket::new("by_name", vpack::string_z, vpack::uint);
static BY_BYTES: Bucket<Vec<u8>, u64> = Bucket::new("by_bytes", vpack::bytes, vpack::uint);
static BY_ID: Bucket<u64, u64> = Bucket::new("by_id", vpack::fuint, vpack::uint);

const CALLS: usize = 1000;

/// Allocations made by `CALLS` runs of `f`, after one warm-up run.
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        f();
    }
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn borrowed_keys_allocate_nothing_per_call() {
    let db = Db::in_memory().unwrap();
    db.update(|tx| {
        write(tx, &BY_NAME, "someone-with-a-long-handle", &mut 1);
        write(tx, &BY_BYTES, &b"some-bytes"[..], &mut 2);
        write(tx, &BY_ID, 7, &mut 3);
        Ok::<_, Error>(())
    })
    .unwrap();
    let tx = db.read_tx().unwrap();
    let owned = "someone-with-a-long-handle".to_string();

    // The baseline: an integer key, nothing to allocate on vbolt's side.
    let by_id = allocations(|| assert_eq!(get(&tx, &BY_ID, 7).unwrap(), Some(3)));
    let by_str = allocations(|| {
        assert_eq!(
            get(&tx, &BY_NAME, "someone-with-a-long-handle").unwrap(),
            Some(1)
        )
    });
    let by_bytes =
        allocations(|| assert_eq!(get(&tx, &BY_BYTES, &b"some-bytes"[..]).unwrap(), Some(2)));
    let by_string_ref = allocations(|| assert_eq!(get(&tx, &BY_NAME, &owned).unwrap(), Some(1)));
    println!(
        "allocations per {CALLS} gets: u64 key {by_id}, &str {by_str}, &[u8] {by_bytes}, &String {by_string_ref}"
    );
    assert_eq!(by_str, by_id, "a &str key allocates");
    assert_eq!(by_bytes, by_id, "a &[u8] key allocates");
    assert_eq!(
        by_string_ref,
        by_id + CALLS,
        "a &String key is cloned once per call"
    );
}
