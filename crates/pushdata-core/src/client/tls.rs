//! Recognizing TLS failures in reqwest's error chain: a refused server certificate is
//! reported as such (with the server it came from), and no TLS failure is retried.

/// The rustls error somewhere in `error`'s chain, if the failure was TLS's.
///
/// rustls errors reach reqwest wrapped in an [`std::io::Error`], whose `source()` skips the
/// wrapped error itself: each I/O error's inner error is looked at too.
pub(crate) fn rustls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    fn in_io(io: &std::io::Error) -> Option<&rustls::Error> {
        let inner = io.get_ref()?;
        inner
            .downcast_ref::<rustls::Error>()
            .or_else(|| inner.downcast_ref::<std::io::Error>().and_then(in_io))
    }
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(found) = e
            .downcast_ref::<rustls::Error>()
            .or_else(|| e.downcast_ref::<std::io::Error>().and_then(in_io))
        {
            return Some(found);
        }
        source = e.source();
    }
    None
}

/// Why the server's certificate was refused (rustls's words, e.g. `invalid peer
/// certificate: UnknownIssuer`), if that is why `error` happened.
pub(crate) fn refused_certificate(error: &reqwest::Error) -> Option<String> {
    match rustls_error(error)? {
        e @ rustls::Error::InvalidCertificate(_) => Some(e.to_string()),
        _ => None,
    }
}
