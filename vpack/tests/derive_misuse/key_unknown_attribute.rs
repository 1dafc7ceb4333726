use vpack::PackKey;

#[derive(PackKey)]
struct At {
    #[pack_key(with = vpack::key::fint_ord(), version = 2)]
    when: i64,
}

fn main() {}
