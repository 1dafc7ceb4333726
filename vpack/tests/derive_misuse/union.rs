use vpack::Pack;

#[derive(Pack)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
