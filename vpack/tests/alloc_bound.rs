//! Allocation is bounded by the input, not by the lengths it claims, and
//! nesting is bounded by a depth limit: hostile bytes can neither exhaust
//! memory nor the stack.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Largest;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator; only records the
// largest request.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Largest = Largest;

/// 1 KiB in memory, one byte on the wire.
#[derive(Clone)]
struct Wide {
    flag: bool,
    _room: [u8; 1023],
}

impl Default for Wide {
    fn default() -> Wide {
        Wide {
            flag: false,
            _room: [0; 1023],
        }
    }
}

fn pack_wide(w: &mut Wide, buf: &mut vpack::Buffer) {
    vpack::bool(&mut w.flag, buf);
}

/// A length prefix claiming `n` elements, then `n` bytes of which the
/// first is not a bool: nothing decodes.
fn claims(n: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    vpack::append_bytes(&mut (n as i64), vpack::int, &mut bytes).unwrap();
    bytes.extend(std::iter::repeat_n(0xFF, n as usize));
    bytes
}

#[test]
fn a_claimed_length_reserves_no_more_than_the_input_holds() {
    // 0.2 reserved count x 1 KiB up front: 16 GiB for this 16 MiB input.
    let input = claims(16 << 20);
    LARGEST.store(0, Ordering::Relaxed);
    let r = vpack::from_bytes::<Vec<Wide>>(&input, |v, b| vpack::vec(v, b, pack_wide));
    assert!(r.is_err());
    let largest = LARGEST.load(Ordering::Relaxed);
    println!(
        "input {} bytes, largest allocation {largest} bytes",
        input.len()
    );
    assert!(largest <= input.len(), "asked for {largest} bytes");

    let input = claims(1 << 20);
    LARGEST.store(0, Ordering::Relaxed);
    let r = vpack::from_bytes::<std::collections::HashMap<u8, Wide>>(&input, |m, b| {
        vpack::hash_map(m, b, vpack::byte, pack_wide)
    });
    assert!(r.is_err());
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= 2 * input.len(),
        "a map asked for {largest} bytes"
    );
}

#[test]
fn elements_that_really_decode_are_all_kept() {
    // The bound limits the first reservation only; real elements grow it.
    let mut v: Vec<Wide> = vec![Wide::default(); 5000];
    let bytes = vpack::to_bytes(&mut v, |v, b| vpack::vec(v, b, pack_wide)).unwrap();
    let back: Vec<Wide> = vpack::from_bytes(&bytes, |v, b| vpack::vec(v, b, pack_wide)).unwrap();
    assert_eq!(back.len(), 5000);
}

#[derive(Default, Debug)]
struct Node {
    children: Vec<Node>,
}

fn pack_node(n: &mut Node, buf: &mut vpack::Buffer) {
    vpack::vec(&mut n.children, buf, pack_node);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // 100,000 levels of one-child nodes in 100 KB: a recursive pack
    // function would overflow any thread's stack without the limit.
    let mut input = vec![0x02u8; 100_000];
    input.push(0x00);
    let err = vpack::from_bytes::<Node>(&input, pack_node).unwrap_err();
    assert_eq!(err.kind(), &vpack::ErrorKind::TooDeep(vpack::MAX_DEPTH));
    // Up to the limit is fine, both ways.
    let mut ok = vec![0x02u8; vpack::MAX_DEPTH as usize - 1];
    ok.push(0x00);
    let mut node = vpack::from_bytes::<Node>(&ok, pack_node).unwrap();
    assert_eq!(vpack::to_bytes(&mut node, pack_node).unwrap(), ok);
}
