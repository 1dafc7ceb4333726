use vpack::Pack;

#[derive(Pack)]
struct Peer {
    name: String,
    address: std::net::Ipv4Addr,
}

fn main() {}
