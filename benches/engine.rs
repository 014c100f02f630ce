//! placeholder, replaced by the benchmark
fn main() {}
