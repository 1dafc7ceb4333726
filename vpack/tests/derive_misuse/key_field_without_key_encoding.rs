use vpack::PackKey;

// A float has no order-preserving key encoding.
#[derive(PackKey)]
struct Reading {
    sensor: u32,
    value: f64,
}

fn main() {}
