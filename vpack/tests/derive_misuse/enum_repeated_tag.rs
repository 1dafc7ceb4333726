use vpack::Pack;

#[derive(Pack)]
enum Shape {
    #[pack(tag = 1)]
    Dot,
    #[pack(tag = 1)]
    Circle(u32),
}

fn main() {}
