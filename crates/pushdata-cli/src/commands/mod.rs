//! One module per subcommand.

pub mod push;
pub mod schema;
pub mod serve;
