//! DNS-rebinding protection: a request is served only when its `Host` names this server
//! (the bound address, a loopback name or address, or a name the configuration allows).
//! A web page the user opens cannot reach a local server through a name of its own that
//! resolves to 127.0.0.1: its requests carry that name.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::mstr::error::ApiError;

/// The hosts a server answers to.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    bound: SocketAddr,
    allowed: Vec<String>,
}

impl HostPolicy {
    /// Hosts naming `bound`, loopback, or one of `allowed` (any case).
    pub(crate) fn new(bound: SocketAddr, allowed: Vec<String>) -> Self {
        HostPolicy { bound, allowed }
    }

    /// Whether `host` (a `Host` header: name or address, with an optional port) is ours.
    fn accepts(&self, host: &str) -> bool {
        let name = host_name(host);
        if name.eq_ignore_ascii_case("localhost")
            || name.to_ascii_lowercase().ends_with(".localhost")
            || self.allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
        {
            return true;
        }
        match name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            // An address: loopback, the bound one, or any when bound to all interfaces.
            Ok(ip) => ip.is_loopback() || ip == self.bound.ip() || self.bound.ip().is_unspecified(),
            Err(_) => false,
        }
    }
}

/// The name part of a `Host` value (`name`, `name:port`, `[v6]`, `[v6]:port`).
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Refuse (403) a request whose `Host` is not this server's.
pub(crate) async fn check_host(
    State(policy): State<Arc<HostPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if !policy.accepts(&h) => ApiError::Forbidden(format!(
            "Host {h:?} does not name this server; requests must use its address ({}), a loopback name, or a host allowed in its configuration",
            policy.bound
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_bound_and_allowed_names_only() {
        let p = HostPolicy::new(
            "127.0.0.1:8080"
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
            vec!["pushdata.internal".into()],
        );
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:8080",
            "127.0.0.2",
            "pushdata.internal:8080",
        ] {
            assert!(p.accepts(ok), "{ok}");
        }
        for bad in [
            "evil.example.com",
            "evil.example.com:8080",
            "10.0.0.5:8080",
            "localhost.evil.com",
            "[2001:db8::1]:80",
        ] {
            assert!(!p.accepts(bad), "{bad}");
        }
        let any = HostPolicy::new(SocketAddr::from(([0, 0, 0, 0], 80)), Vec::new());
        assert!(any.accepts("10.0.0.5:80"));
        assert!(!any.accepts("attacker.example"));
    }
}
