use vpack::Pack;

#[derive(Pack)]
#[pack(version = 2)]
struct Cache {
    #[pack(skip, since = 2)]
    hits: u64,
}

fn main() {}
