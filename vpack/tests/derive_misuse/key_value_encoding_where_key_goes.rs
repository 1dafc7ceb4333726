// A value encoding (a varint: 300 sorts before 2) is not a key encoding.
static IDS: vpack::KeyFn<u64> = vpack::uint;

fn main() {}
