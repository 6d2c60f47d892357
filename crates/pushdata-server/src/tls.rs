//! HTTPS: the certificate and key the server presents ([`TlsConfig`]), loaded into a
//! rustls configuration (ring, the provider reqwest's rustls uses too).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Result, ServerError};

/// The certificate chain and private key the server presents over HTTPS, in PEM.
///
/// `Debug` shows where they come from (the file names), never the key.
///
/// ```
/// use pushdata_server::{ServerConfig, TlsConfig};
///
/// let config = ServerConfig::new("/tmp/pushdata-data")
///     .with_tls(TlsConfig::from_pem_files("server.pem", "server.key"));
/// assert!(config.tls.is_some());
/// assert!(format!("{:?}", config.tls).contains("server.key"));
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    cert: Pem,
    key: Pem,
}

/// Where a PEM text comes from.
#[derive(Clone)]
enum Pem {
    File(PathBuf),
    Text(Vec<u8>),
}

impl Pem {
    /// The text, read from its file if it is one. `what` names it in errors.
    fn read(&self, what: &str) -> Result<(Vec<u8>, String)> {
        match self {
            Pem::File(path) => std::fs::read(path)
                .map(|bytes| (bytes, format!("{what} {}", path.display())))
                .map_err(|e| ServerError::Tls {
                    context: format!("cannot read the {what} {}", path.display()),
                    source: Box::new(e),
                }),
            Pem::Text(bytes) => Ok((bytes.clone(), format!("the {what} given in memory"))),
        }
    }

    fn describe(&self) -> String {
        match self {
            Pem::File(path) => path.display().to_string(),
            Pem::Text(_) => "(in memory)".to_string(),
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert", &self.cert.describe())
            .field("key", &self.key.describe())
            .finish()
    }
}

impl TlsConfig {
    /// The certificate chain (the server's certificate first, then any intermediates) and
    /// its private key (PKCS#8, PKCS#1 or SEC1), each a PEM file read when the server
    /// starts.
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsConfig {
            cert: Pem::File(cert.into()),
            key: Pem::File(key.into()),
        }
    }

    /// The certificate chain and private key as PEM text (e.g. made by a test).
    pub fn from_pem(cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        TlsConfig {
            cert: Pem::Text(cert.into()),
            key: Pem::Text(key.into()),
        }
    }

    /// The rustls configuration: HTTP/2 and HTTP/1.1 offered, no client certificates.
    /// Errors name the file and what is wrong with it.
    pub(crate) fn rustls_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        let (cert_pem, cert_name) = self.cert.read("certificate")?;
        let (key_pem, key_name) = self.key.read("private key")?;
        let certs = certificates(&cert_pem, &cert_name)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| ServerError::Tls {
            context: format!("{key_name} holds no usable PEM private key"),
            source: Box::new(e),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("choosing the TLS versions", e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| ServerError::Tls {
                context: format!("{cert_name} and {key_name} do not make a usable pair"),
                source: Box::new(e),
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Every certificate of a PEM text; at least one.
fn certificates(pem: &[u8], name: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ServerError::Tls {
            context: format!("{name} is not valid PEM"),
            source: Box::new(e),
        })?;
    if certs.is_empty() {
        return Err(ServerError::Tls {
            context: format!("{name} holds no PEM certificate"),
            source: "no -----BEGIN CERTIFICATE----- section".into(),
        });
    }
    Ok(certs)
}

fn tls_error(context: &str, e: rustls::Error) -> ServerError {
    ServerError::Tls {
        context: context.to_string(),
        source: Box::new(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bad_inputs_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = TlsConfig::from_pem_files(&missing, &missing)
            .rustls_config()
            .unwrap_err();
        assert!(matches!(e, ServerError::Tls { .. }), "{e}");
        assert!(e.to_string().contains("missing.pem"), "{e}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing here\n").unwrap();
        let e = TlsConfig::from_pem_files(&empty, &empty)
            .rustls_config()
            .unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");

        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let e = TlsConfig::from_pem(cert.cert.pem(), "no key")
            .rustls_config()
            .unwrap_err();
        assert!(e.to_string().contains("no usable PEM private key"), "{e}");
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let e = TlsConfig::from_pem(cert.cert.pem(), other.signing_key.serialize_pem())
            .rustls_config()
            .unwrap_err();
        assert!(e.to_string().contains("do not make a usable pair"), "{e}");
        TlsConfig::from_pem(cert.cert.pem(), cert.signing_key.serialize_pem())
            .rustls_config()
            .unwrap();
    }

    #[test]
    fn debug_never_shows_the_key() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key = cert.signing_key.serialize_pem();
        let shown = format!("{:?}", TlsConfig::from_pem(cert.cert.pem(), key.clone()));
        assert!(
            !shown.contains(&key) && !shown.contains("PRIVATE"),
            "{shown}"
        );
    }
}
