use vpack::Pack;

#[derive(Pack)]
enum Shape {
    #[pack(tag = 1)]
    Dot,
    Circle(u32),
}

fn main() {}
