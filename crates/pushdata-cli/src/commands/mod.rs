//! One module per subcommand.

pub(crate) mod pull;
pub(crate) mod push;
pub(crate) mod schema;
pub(crate) mod serve;
pub(crate) mod session;
pub(crate) mod veracity;

/// Completes on Ctrl-C: the stop signal of a push. A handler that cannot be installed never
/// fires (it must not stop the push).
pub(crate) async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
