//! The pushdata command line (work in progress).
fn main() {}
