use vpack::Pack;

#[derive(Pack)]
#[pack(version = 3)]
struct User {
    #[pack(until = 3)]
    nickname: String,
}

fn main() {}
