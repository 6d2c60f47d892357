//! One module per subcommand.

pub mod pull;
pub mod push;
pub mod schema;
pub mod serve;
pub mod session;
