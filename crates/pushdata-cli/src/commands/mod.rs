//! One module per subcommand.

pub(crate) mod pull;
pub(crate) mod push;
pub(crate) mod schema;
pub(crate) mod serve;
pub(crate) mod session;
pub(crate) mod veracity;
