//! Allocation budget of the hot paths, counted by a global allocator:
//! packing into a reused buffer allocates nothing, and unpacking allocates
//! only the value's own strings and vectors.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::article::{Article, pack_article, sample_article};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

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

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    f();
    ALLOCS.load(Ordering::Relaxed) - before
}

// One test function: the counter is process-wide, so parallel tests would blur it.
#[test]
fn allocation_budget() {
    let mut article = sample_article();
    let mut out = Vec::with_capacity(1024);
    let n = allocations(|| {
        for _ in 0..100 {
            out.clear();
            vpack::append_bytes(&mut article, pack_article, &mut out).unwrap();
        }
    });
    assert_eq!(n, 0, "packing into a reused buffer allocated");

    // A fresh article owns three heap buffers: category_ids, title, body.
    let n = allocations(|| {
        let a: Article = vpack::from_bytes(&out, pack_article).unwrap();
        assert_eq!(a, article);
    });
    assert_eq!(n, 3, "unpacking allocated beyond the value's own buffers");
}
