use vpack::PackKey;

#[derive(PackKey)]
enum Color {
    Red,
    Blue,
}

fn main() {}
