use vpack::Pack;

#[derive(Pack)]
#[pack(version = 2)]
struct User {
    name: String,
    #[pack(since = 3)]
    email: String,
}

fn main() {}
