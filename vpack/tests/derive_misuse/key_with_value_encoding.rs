use vpack::PackKey;

#[derive(PackKey)]
struct At {
    #[pack_key(with = vpack::fint)]
    when: i64,
}

fn main() {}
