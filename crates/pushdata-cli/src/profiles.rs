//! Named connection profiles: the config file (where it is, what it holds), and the
//! warning when it holds a secret other users can read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pushdata_core::Secret;
use serde::Deserialize;

use crate::args::LoginModeArg;
use crate::error::{CliError, Result};

/// The environment variable naming another config file.
pub(crate) const CONFIG_ENV: &str = "PUSHDATA_CONFIG";

/// One profile: every key optional; flags and environment variables override each.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    /// Base URL of the server.
    pub(crate) url: Option<String>,
    /// User name.
    pub(crate) user: Option<String>,
    /// How to log in.
    pub(crate) login_mode: Option<LoginModeArg>,
    /// Project name or id.
    pub(crate) project: Option<String>,
    /// A CA certificate file to trust (relative to the config file's directory).
    pub(crate) ca_cert: Option<PathBuf>,
    /// A password, if the user wrote one (discouraged: see the warning).
    pub(crate) password: Option<Secret>,
    /// An API token, if the user wrote one (same caveat).
    pub(crate) api_token: Option<Secret>,
}

impl Profile {
    fn holds_secret(&self) -> bool {
        self.password.is_some() || self.api_token.is_some()
    }
}

/// The config file's contents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// Profiles by name.
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The config file: `PUSHDATA_CONFIG`, else `pushdata/config.toml` in the user's config
/// directory.
pub(crate) fn config_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    dirs::config_dir()
        .map(|dir| dir.join("pushdata").join("config.toml"))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--profile: this system has no user config directory; name the config file with {CONFIG_ENV}"
            ))
        })
}

/// The profile `name` of the config file, with its `ca_cert` made relative to the file's
/// directory. Warns on stderr when the file holds a password or token and other users can
/// read it.
pub(crate) fn load(name: &str) -> Result<Profile> {
    let path = config_path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::UnknownProfile {
                name: name.to_string(),
                path,
                known: None,
            });
        }
        Err(source) => {
            return Err(CliError::Io {
                what: format!("reading the config file {}", path.display()),
                source,
            });
        }
    };
    let mut file: ConfigFile = toml::from_str(&text).map_err(|e| CliError::File {
        path: path.clone(),
        message: format!(
            "not a valid pushdata config file: {}",
            parse_error(&text, &e)
        ),
    })?;
    warn_if_secrets_readable(&path, &file);
    let known: Vec<String> = file.profiles.keys().cloned().collect();
    let mut profile = file
        .profiles
        .remove(name)
        .ok_or_else(|| CliError::UnknownProfile {
            name: name.to_string(),
            path: path.clone(),
            known: Some(known),
        })?;
    if let (Some(ca), Some(dir)) = (&profile.ca_cert, path.parent()) {
        profile.ca_cert = Some(dir.join(ca));
    }
    Ok(profile)
}

/// `line N: message`, without the snippet of the file toml's own text shows: the line may
/// hold a password. A message about a `password` or `api_token` line (which could quote
/// the value) is replaced.
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return e.message().to_string();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line_number = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text
        .get(line_start..)
        .and_then(|rest| rest.lines().next())
        .unwrap_or("")
        .trim_start();
    let secret_line = ["password", "api_token", "\"password\"", "\"api_token\""]
        .iter()
        .any(|key| line.starts_with(key));
    if secret_line {
        format!("line {line_number}: this password or api_token is not a quoted string")
    } else {
        format!("line {line_number}: {}", e.message())
    }
}

/// One line on stderr when a profile holds a password or token and the file is readable
/// by its group or by others.
fn warn_if_secrets_readable(path: &Path, file: &ConfigFile) {
    let Some((holder, _)) = file.profiles.iter().find(|(_, p)| p.holds_secret()) else {
        return;
    };
    if let Some(mode) = readable_by_others(path) {
        eprintln!(
            "warning: {} holds a password or API token (profile {holder:?}) and other users can read it (mode {mode:o}); run chmod 600 {}",
            path.display(),
            path.display()
        );
    }
}

/// The file's permission bits when its group or others may read it (Unix); `None` when
/// only its owner may, or elsewhere.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn profiles_parse_and_unknown_keys_are_refused() {
        let file: ConfigFile = toml::from_str(
            r#"
            [profiles.prod]
            url = "https://bi.example.com/MicroStrategyLibrary"
            user = "jdoe"
            login_mode = "ldap"
            project = "Sales"
            ca_cert = "ca.pem"

            [profiles.ci]
            login_mode = "api-token"
            api_token = "tok-hunter2"
            "#,
        )
        .unwrap();
        let prod = &file.profiles["prod"];
        assert_eq!(prod.login_mode, Some(LoginModeArg::Ldap));
        assert_eq!(prod.user.as_deref(), Some("jdoe"));
        assert!(!prod.holds_secret());
        assert!(file.profiles["ci"].holds_secret());
        assert!(!format!("{file:?}").contains("hunter2"));

        let text = "[profiles.x]\npasword = \"typo\"\n";
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        let shown = parse_error(text, &e);
        assert!(
            shown.starts_with("line 2:") && shown.contains("pasword"),
            "{shown}"
        );
        let text = "[profiles.x]\nuser = \"u\"\npassword = 123456789\n";
        let e = toml::from_str::<ConfigFile>(text).unwrap_err();
        let shown = parse_error(text, &e);
        assert!(
            shown.starts_with("line 3:") && !shown.contains("123456789"),
            "{shown}"
        );
        assert!(toml::from_str::<ConfigFile>("[profiles.x]\nlogin_mode = \"saml\"\n").is_err());
    }
}
