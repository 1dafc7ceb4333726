//! Allocation budgets, counted by a global allocator: a `&str` key for a
//! `String`-keyed bucket (and a `&[u8]` for a `Vec<u8>` one) costs no
//! allocation per call, only a `&String` (cloned) does; and a page read
//! through an iterator allocates no more than through the callback form.
//!
//! The counting allocator is the only `unsafe` in vbolt's tree: a test
//! harness that forwards to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::{Mutex, MutexGuard};

use vbolt::*;

struct Counting;

thread_local! {
    /// Allocations made by this thread. Per thread, because the test
    /// harness allocates on its own threads (starting the next test) while
    /// a measurement runs: a global count saw one such allocation in about
    /// one run of six.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // During thread teardown the count may be gone: not counted.
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

fn counted() -> usize {
    ALLOCS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is a thread-local counter (const-initialised, so reading
// it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

static BY_NAME: Bucket<String, u64> = Bucket::new("by_name", vpack::key::string_z(), vpack::uint);
static BY_BYTES: Bucket<Vec<u8>, u64> = Bucket::new(
    "by_bytes",
    vpack::KeyFn::order_unchecked(vpack::bytes),
    vpack::uint,
);
static BY_ID: Bucket<u64, u64> = Bucket::new("by_id", vpack::key::fuint(), vpack::uint);

const CALLS: usize = 1000;

/// Tests run on several threads and the counter is global: each test
/// holds this from its first line, so no other test allocates meanwhile.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Allocations made by `CALLS` runs of `f`, after one warm-up run.
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = counted();
    for _ in 0..CALLS {
        f();
    }
    counted() - before
}

#[test]
fn borrowed_keys_allocate_nothing_per_call() {
    let _alone = alone();
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

static BY_TAG: Index<String, u64, u64> = Index::with_priority(
    "by_tag",
    vpack::key::string_z(),
    vpack::key::fuint(),
    vpack::key::fuint(),
);

/// A page read through the iterator takes its key buffers from the
/// transaction, as the callback form does, so it allocates no more per
/// page: the engine's range on both sides, plus the iterator's buffer of
/// decoded items where the callback form makes the next page's cursor.
/// (Each iterator used to allocate three key buffers of its own.)
#[test]
fn a_page_through_the_iterator_allocates_no_more_than_the_callback_form() {
    let _alone = alone();
    let db = Db::in_memory().unwrap();
    db.update(|tx| {
        for post in 1..=100u64 {
            set_target_single_term_ext(tx, &BY_TAG, post, "rust", post);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let tx = db.read_tx().unwrap();
    let window = Window::new().limit(30).reverse();
    let cursor = read_term_targets(&tx, &BY_TAG, "rust", &mut Vec::new(), &window)
        .unwrap()
        .expect("a second page");
    let after = Window::new().limit(30).reverse().after(cursor);

    for (what, w) in [("first page", &window), ("page by cursor", &after)] {
        let callback = allocations(|| {
            let mut n = 0;
            iterate_term(&tx, &BY_TAG, "rust", w, |_, _| {
                n += 1;
                true
            })
            .unwrap();
            assert_eq!(n, 30);
        });
        let iterator = allocations(|| {
            let n = term_targets(&tx, &BY_TAG, "rust", w)
                .try_fold(0, |n, e| e.map(|_| n + 1))
                .unwrap();
            assert_eq!(n, 30);
        });
        println!(
            "allocations per {CALLS} pages ({what}): callback {callback}, iterator {iterator}"
        );
        // A few buffers may grow during the first calls; none per call.
        assert!(
            iterator <= callback + 10,
            "{what}: the iterator allocates more per page than the callback form"
        );
    }
}
