//! The connection settings of a command, resolved: each from its flag, else its environment
//! variable (clap merges those two), else the `--profile`, else its default; then the
//! client and the credentials made from them.

use std::path::PathBuf;

use pushdata_core::{Client, Credentials, Secret};
use pushdata_server::ServerConfig;

use crate::args::{ConnectionArgs, LoginModeArg};
use crate::error::{CliError, Result};
use crate::profiles::{self, Profile};

/// User name when none is given (the embedded server's default user).
const DEFAULT_USER: &str = "administrator";

/// Where to connect, how, and as whom.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The server's base URL; `None`: an embedded reference server.
    pub(crate) url: Option<String>,
    /// The project, by name or id.
    pub(crate) project: Option<String>,
    login: Login,
    /// Whether a user or password was given (then the embedded server gets that user).
    explicit_user: bool,
    ca_cert: Option<PathBuf>,
    insecure: bool,
}

/// The login, by mode.
#[derive(Debug)]
enum Login {
    Password {
        ldap: bool,
        user: String,
        password: Secret,
    },
    Guest,
    ApiToken(Secret),
}

impl Connection {
    /// Resolve the settings and check that they make one login. Prints the `--insecure`
    /// warning.
    pub(crate) fn resolve(args: &ConnectionArgs) -> Result<Self> {
        let profile = match &args.profile {
            Some(name) => profiles::load(name)?,
            None => Profile::default(),
        };
        let api_token = args.api_token.clone().or(profile.api_token);
        let mode = args
            .login_mode
            .or(profile.login_mode)
            .unwrap_or(if api_token.is_some() {
                LoginModeArg::ApiToken
            } else {
                LoginModeArg::Standard
            });
        let user = args.user.clone().or(profile.user);
        let password = args.password.clone().or(profile.password);
        let explicit_user = user.is_some() || password.is_some();
        let login = match mode {
            LoginModeArg::Standard | LoginModeArg::Ldap => {
                if api_token.is_some() {
                    return Err(CliError::Usage(format!(
                        "an API token (--api-token, PUSHDATA_API_TOKEN or the profile's api_token) is used only with --login-mode api-token, not {}",
                        mode_name(mode)
                    )));
                }
                Login::Password {
                    ldap: mode == LoginModeArg::Ldap,
                    user: user.unwrap_or_else(|| DEFAULT_USER.to_string()),
                    password: password.unwrap_or_default(),
                }
            }
            LoginModeArg::Guest => {
                if args.user.is_some() || args.password.is_some() || api_token.is_some() {
                    return Err(CliError::Usage(
                        "--login-mode guest logs in without credentials: drop --user, --password and --api-token (or their PUSHDATA_* variables)".into(),
                    ));
                }
                Login::Guest
            }
            LoginModeArg::ApiToken => Login::ApiToken(api_token.ok_or_else(|| {
                CliError::Usage(
                    "--login-mode api-token needs a token: --api-token TOKEN, PUSHDATA_API_TOKEN, or api_token in the profile".into(),
                )
            })?),
        };
        let connection = Connection {
            url: args.url.clone().or(profile.url),
            project: args.project.clone().or(profile.project),
            login,
            explicit_user,
            ca_cert: args.ca_cert.clone().or(profile.ca_cert),
            insecure: args.insecure,
        };
        connection.check_embedded()?;
        if let (true, Some(url)) = (connection.insecure, &connection.url) {
            eprintln!(
                "warning: --insecure: the TLS certificate of {url} is not checked; anyone on the way can read and change what is sent, passwords included"
            );
        }
        Ok(connection)
    }

    /// Without a URL, the embedded server is plain HTTP and knows only user logins.
    fn check_embedded(&self) -> Result<()> {
        if self.url.is_some() {
            return Ok(());
        }
        let what = match (&self.login, &self.ca_cert, self.insecure) {
            (_, Some(_), _) => "--ca-cert (or a profile's ca_cert)",
            (_, _, true) => "--insecure",
            (Login::Guest, ..) => "--login-mode guest",
            (Login::ApiToken(_), ..) => "--login-mode api-token",
            (Login::Password { .. }, None, false) => return Ok(()),
        };
        Err(CliError::Usage(format!(
            "{what} needs a server: give --url (or a --profile with a url); the embedded reference server takes user logins over plain HTTP"
        )))
    }

    /// The client for `url`, trusting `--ca-cert` and skipping certificate checks with
    /// `--insecure`.
    pub(crate) fn client(&self, url: &str) -> Result<Client> {
        let mut builder = Client::builder(url).with_accept_invalid_certs(self.insecure);
        if let Some(ca) = &self.ca_cert {
            builder = builder.with_root_certificate_file(ca);
        }
        Ok(builder.build()?)
    }

    /// The login's credentials.
    pub(crate) fn credentials(&self) -> Credentials {
        match &self.login {
            Login::Password {
                ldap: false,
                user,
                password,
            } => Credentials::standard(user, password.clone()),
            Login::Password {
                ldap: true,
                user,
                password,
            } => Credentials::ldap(user, password.clone()),
            Login::Guest => Credentials::guest(),
            Login::ApiToken(token) => Credentials::api_token(token.clone()),
        }
    }

    /// `config` for an embedded server that accepts this login: the given user and
    /// password, if any were given (else the server's default user).
    pub(crate) fn embedded_config(&self, config: ServerConfig) -> ServerConfig {
        match &self.login {
            Login::Password { user, password, .. } if self.explicit_user => {
                config.with_user(user.clone(), password.clone())
            }
            _ => config,
        }
    }
}

/// The mode as `--login-mode` spells it.
fn mode_name(mode: LoginModeArg) -> String {
    clap::ValueEnum::to_possible_value(&mode)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}
