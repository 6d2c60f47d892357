//! The client's TLS details: root certificates the user adds (checked one by one, so that
//! an error names the file and the certificate), and recognizing TLS failures in reqwest's
//! error chain (a refused server certificate is reported as such; no TLS failure is
//! retried).

use std::fmt;
use std::path::PathBuf;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// A root certificate source of [`ClientBuilder`](super::ClientBuilder).
#[derive(Clone)]
pub(crate) enum RootCertificate {
    /// PEM text given in memory.
    Pem(Vec<u8>),
    /// A PEM file, read at build time.
    File(PathBuf),
}

impl fmt::Debug for RootCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootCertificate::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
            RootCertificate::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl RootCertificate {
    /// Every certificate of the source, each checked to be one rustls can trust; `number`
    /// (1-based) names an in-memory source in errors.
    pub(crate) fn load(&self, number: usize) -> Result<Vec<reqwest::Certificate>> {
        let (pem, name) = match self {
            RootCertificate::Pem(pem) => (pem.clone(), format!("root certificate #{number}")),
            RootCertificate::File(path) => {
                let name = format!("root certificate file {}", path.display());
                let pem = std::fs::read(path).map_err(|e| Error::Config {
                    message: format!("{name} cannot be read"),
                    source: Some(Box::new(e)),
                })?;
                (pem, name)
            }
        };
        let ders = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Config {
                message: format!("{name} is not valid PEM"),
                source: Some(Box::new(e)),
            })?;
        if ders.is_empty() {
            return Err(Error::config(format!(
                "{name} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        let mut store = rustls::RootCertStore::empty();
        ders.iter()
            .enumerate()
            .map(|(i, der)| {
                store.add(der.clone()).map_err(|e| Error::Config {
                    message: format!(
                        "certificate {} of {name} is not a usable X.509 certificate",
                        i + 1
                    ),
                    source: Some(Box::new(e)),
                })?;
                reqwest::Certificate::from_der(der).map_err(|e| Error::Config {
                    message: format!(
                        "certificate {} of {name} is refused by the HTTP client",
                        i + 1
                    ),
                    source: Some(Box::new(e)),
                })
            })
            .collect()
    }
}

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
