use vpack::Pack;

#[derive(Pack)]
#[pack(version = 2)]
struct User {
    #[pack(sinse = 2)]
    email: String,
}

fn main() {}
