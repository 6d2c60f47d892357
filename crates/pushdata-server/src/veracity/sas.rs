//! Directory-scoped shared access signatures (`sr=d`), issued for an ingest job's folder
//! and checked on every Data Lake call, in Azure's order: parameters and signature, time
//! window, permission.
//!
//! The string to sign is `sp \n st \n se \n /<filesystem>/<directory> \n sv \n sr \n sdd`,
//! signed with HMAC-SHA256 under the data directory's key (like a storage account key):
//! generated at the first start, kept in `<data_dir>/veracity/sas.key` (readable by its
//! owner only), so a SAS stays valid across restarts until it expires and an upload
//! interrupted by a restart goes on. The signed directory is the first `sdd` segments of the request
//! path, so a SAS used on another folder fails its signature (403 `AuthenticationFailed`),
//! as in Azure.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::error::{LakeCode, Result, VeracityError};
use super::time::{iso8601, now_secs, parse_iso8601};

/// The signed version the emulator issues (the first with directory scope).
const SIGNED_VERSION: &str = "2020-02-10";

/// A permission a Data Lake call needs (letters of `sp`, in Azure's order `racwdxltmeop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    /// `c`: create a file (`w` also grants it).
    Create,
    /// `a`: append data (`w` also grants it).
    Add,
    /// `w`: write (flush).
    Write,
}

impl Permission {
    /// Whether the permission string `sp` grants this permission.
    fn granted_by(self, sp: &str) -> bool {
        match self {
            Permission::Create => sp.contains('c') || sp.contains('w'),
            Permission::Add => sp.contains('a') || sp.contains('w'),
            Permission::Write => sp.contains('w'),
        }
    }
}

/// The SAS signing key (random, kept in the data directory; never printed).
pub(crate) struct SasKey([u8; 32]);

impl fmt::Debug for SasKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SasKey(<redacted>)")
    }
}

/// The parameters of a SAS, as they arrive in a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SasParams {
    sv: String,
    st: String,
    se: String,
    sr: String,
    sdd: String,
    sp: String,
    sig: String,
}

impl SasParams {
    /// The SAS parameters of a decoded query (missing ones are empty).
    pub(crate) fn from_query(q: &HashMap<String, String>) -> Self {
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        SasParams {
            sv: get("sv"),
            st: get("st"),
            se: get("se"),
            sr: get("sr"),
            sdd: get("sdd"),
            sp: get("sp"),
            sig: get("sig"),
        }
    }

    /// The query string (percent-encoded, `sig` included).
    pub(crate) fn to_query(&self) -> String {
        let pairs = [
            ("sv", &self.sv),
            ("st", &self.st),
            ("se", &self.se),
            ("sr", &self.sr),
            ("sdd", &self.sdd),
            ("sp", &self.sp),
            ("sig", &self.sig),
        ];
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

impl SasKey {
    /// A fresh random key.
    pub(crate) fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        SasKey(k)
    }

    /// The key kept at `path`, or a new one written there (owner-only, atomically) if
    /// there is none. A file that is not a key is an error: the server does not start
    /// rather than invalidate every SAS it issued.
    pub(crate) fn open(path: &std::path::Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    VeracityError::internal(
                        format!("reading the SAS key {}", path.display()),
                        format!("{} bytes, not 32", bytes.len()),
                    )
                })?;
                Ok(SasKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SasKey::generate();
                crate::store::write_file_atomic(path, &key.0, true)?;
                Ok(key)
            }
            Err(e) => Err(VeracityError::io(
                format!("reading the SAS key {}", path.display()),
                e,
            )),
        }
    }

    fn mac(&self, p: &SasParams, resource: &str) -> Hmac<Sha256> {
        let to_sign = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}",
            p.sp, p.st, p.se, resource, p.sv, p.sr, p.sdd
        );
        // HMAC takes keys of any length; a 32-byte key cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts any key length"),
        };
        mac.update(to_sign.as_bytes());
        mac
    }

    /// A SAS for directory `/<filesystem>/<dir>` with permissions `sp`, valid from now
    /// (less a minute of clock skew) for `lifetime_secs`.
    pub(crate) fn issue(
        &self,
        filesystem: &str,
        dir: &str,
        sp: &str,
        lifetime_secs: i64,
    ) -> SasParams {
        let now = now_secs();
        let mut p = SasParams {
            sv: SIGNED_VERSION.to_string(),
            st: iso8601(now - 60),
            se: iso8601(now + lifetime_secs),
            sr: "d".to_string(),
            sdd: dir.split('/').filter(|s| !s.is_empty()).count().to_string(),
            sp: sp.to_string(),
            sig: String::new(),
        };
        let resource = format!("/{filesystem}/{dir}");
        p.sig = STANDARD.encode(self.mac(&p, &resource).finalize().into_bytes());
        p
    }

    /// Check `p` for a call on `/<filesystem>/<path>` needing `needed`.
    pub(crate) fn check(
        &self,
        p: &SasParams,
        filesystem: &str,
        path: &str,
        needed: Permission,
    ) -> Result<()> {
        let fail = |detail: &str| VeracityError::lake(LakeCode::AuthenticationFailed, detail);
        if p.sv.is_empty() || p.se.is_empty() || p.sp.is_empty() || p.sig.is_empty() {
            return Err(fail("a SAS parameter (sv, se, sp, sig) is missing"));
        }
        if p.sr != "d" {
            return Err(fail("the SAS is not directory-scoped (sr=d)"));
        }
        let depth: usize = p
            .sdd
            .parse()
            .map_err(|_| fail("sdd is not a non-negative integer"))?;
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // The file itself is below the directory: the directory has fewer segments.
        if depth >= segments.len() {
            return Err(fail("the path is not below the signed directory"));
        }
        let resource = format!("/{filesystem}/{}", segments[..depth].join("/"));
        let sig = STANDARD
            .decode(&p.sig)
            .map_err(|_| fail("the signature is not base64"))?;
        self.mac(p, &resource).verify_slice(&sig).map_err(|_| {
            fail("signature did not match (wrong key, altered fields, or another directory)")
        })?;
        let now = now_secs();
        let start = if p.st.is_empty() {
            Some(now)
        } else {
            parse_iso8601(&p.st)
        };
        match (start, parse_iso8601(&p.se)) {
            (Some(st), Some(se)) if st <= now && now <= se => {}
            _ => return Err(fail("signature not valid in the specified time frame")),
        }
        if !needed.granted_by(&p.sp) {
            return Err(VeracityError::lake(
                LakeCode::AuthorizationPermissionMismatch,
                format!("the SAS grants {:?}, the call needs {needed:?}", p.sp),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<()>) -> Option<LakeCode> {
        match r {
            Err(VeracityError::Lake { code, .. }) => Some(code),
            _ => None,
        }
    }

    #[test]
    fn scope_time_and_permissions() {
        let key = SasKey::generate();
        let p = key.issue("ingest", "job1", "racwl", 3600);
        assert!(
            key.check(&p, "ingest", "job1/a.csv", Permission::Write)
                .is_ok()
        );
        let other = key.check(&p, "ingest", "job2/a.csv", Permission::Write);
        assert_eq!(code(other), Some(LakeCode::AuthenticationFailed));
        let read_only = key.issue("ingest", "job1", "rl", 3600);
        let denied = key.check(&read_only, "ingest", "job1/a.csv", Permission::Add);
        assert_eq!(
            code(denied),
            Some(LakeCode::AuthorizationPermissionMismatch)
        );
        let expired = key.issue("ingest", "job1", "racwl", -10);
        let late = key.check(&expired, "ingest", "job1/a.csv", Permission::Create);
        assert_eq!(code(late), Some(LakeCode::AuthenticationFailed));
        let mut altered = p.clone();
        altered.sp = "racwdl".into();
        let forged = key.check(&altered, "ingest", "job1/a.csv", Permission::Create);
        assert_eq!(code(forged), Some(LakeCode::AuthenticationFailed));
        let other_key = SasKey::generate();
        let foreign = other_key.check(&p, "ingest", "job1/a.csv", Permission::Create);
        assert_eq!(code(foreign), Some(LakeCode::AuthenticationFailed));
    }
}
