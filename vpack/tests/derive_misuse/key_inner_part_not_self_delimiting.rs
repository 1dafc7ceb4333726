use vpack::{KeyFn, PackKey};

// A key whose bytes end anywhere (a length-less encoding opted out of
// the order promise) cannot be followed by another part.
#[derive(Default)]
struct Blob(Vec<u8>);

impl PackKey for Blob {
    const KEY: KeyFn<Blob> = KeyFn::order_unchecked(|b, buf| vpack::bytes(&mut b.0, buf));
}

#[derive(PackKey)]
struct Pair {
    blob: Blob,
    seq: u64,
}

fn main() {
    let _ = vpack::key::ordered::<Pair>();
}
