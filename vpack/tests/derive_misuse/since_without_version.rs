use vpack::Pack;

#[derive(Pack)]
struct User {
    name: String,
    #[pack(since = 2)]
    email: String,
}

fn main() {}
