//! Connecting to a real server: the login modes (`--login-mode`, `--api-token`), HTTPS
//! with a private CA (`--ca-cert`, `--insecure`, `serve --tls-cert/--tls-key`), and
//! connection profiles (`--profile`, `PUSHDATA_CONFIG`), each against the reference server
//! on 127.0.0.1 with the real `pushdata` binary. The test certificates (a CA and a server
//! certificate for 127.0.0.1 and localhost) are made here with rcgen; no key is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use assert_cmd::Command;
use pushdata_core::wire::LoginMode;
use pushdata_core::{Client, Credentials, Error};
use pushdata_server::{Server, ServerConfig, ServerHandle, TlsConfig};
use serde_json::Value;
use tempfile::TempDir;

/// A CA, and a server certificate it signed for 127.0.0.1 and localhost.
struct Certs {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl Certs {
    fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "pushdata test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        Certs {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn tls(&self) -> TlsConfig {
        TlsConfig::from_pem(self.cert_pem.clone(), self.key_pem.clone())
    }

    /// The CA certificate as a file in `dir`.
    fn ca_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

/// Everything one test needs: a working directory and a server on its own data directory.
struct Env {
    dir: TempDir,
    server: ServerHandle,
}

impl Env {
    async fn start(configure: impl FnOnce(ServerConfig) -> ServerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = configure(ServerConfig::new(dir.path().join("server-data")));
        let server = Server::start(config).await.unwrap();
        Env { dir, server }
    }

    fn url(&self) -> &str {
        self.server.base_url()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `pushdata push sales.parquet --json ARGS...` in the working directory.
    /// `push` of the sales sample; the same test pushes it again and again, so into the
    /// one dataset of that name (`--if-exists update`).
    fn push(&self, args: &[&str]) -> Command {
        let mut cmd = pushdata(self.path());
        cmd.arg("push")
            .arg(sales())
            .args(["--json", "--if-exists", "update"])
            .args(args);
        cmd
    }
}

fn sales() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sales.parquet")
}

/// `pushdata` in `cwd` with no PUSHDATA_* setting or RUST_LOG from the test's environment,
/// and a config file path that does not exist unless a test writes it.
fn pushdata(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pushdata").unwrap();
    cmd.current_dir(cwd);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PUSHDATA_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env("PUSHDATA_CONFIG", cwd.join("config.toml"))
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Run a command off the async runtime (the server runs on it).
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// A successful push: its JSON result, and stderr.
async fn pushed(cmd: Command) -> (Value, String) {
    let out = run(cmd).await;
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "push failed: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tables"][0]["rows"], 4, "{json}");
    (json, stderr)
}

/// A failed run: its one `error:` line, which names every needle; no panic.
async fn failed(cmd: Command, needles: &[&str]) -> String {
    let out = run(cmd).await;
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "expected a failure: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line expected: {stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{needle:?} missing: {stderr}");
    }
    errors[0].to_string()
}

/// A server accepting every login mode, with user ann (password `pw`), and an API token
/// of ann's made through the library.
async fn all_modes() -> (Env, String) {
    let env = Env::start(|c| {
        c.with_user("ann", "pw").with_login_modes([
            LoginMode::STANDARD,
            LoginMode::LDAP,
            LoginMode::GUEST,
            LoginMode::API_TOKEN,
        ])
    })
    .await;
    let client = Client::builder(env.url()).build().unwrap();
    client
        .login(Credentials::standard("ann", "pw"))
        .await
        .unwrap();
    let token = client.create_api_token().await.unwrap();
    client.logout().await.unwrap();
    (env, token.expose().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_login_mode_succeeds_with_the_right_credentials() {
    let (env, token) = all_modes().await;
    let url = env.url();
    for args in [
        vec!["--url", url, "--user", "ann", "--password", "pw"],
        vec![
            "--url",
            url,
            "--login-mode",
            "ldap",
            "--user",
            "ann",
            "--password",
            "pw",
        ],
        vec!["--url", url, "--login-mode", "guest"],
        vec![
            "--url",
            url,
            "--login-mode",
            "api-token",
            "--api-token",
            &token,
        ],
        // A token alone means an API token login.
        vec!["--url", url, "--api-token", &token],
    ] {
        pushed(env.push(&args)).await;
    }
    // The same through the environment variables.
    let mut cmd = env.push(&[]);
    cmd.env("PUSHDATA_URL", url)
        .env("PUSHDATA_LOGIN_MODE", "api-token")
        .env("PUSHDATA_API_TOKEN", &token);
    pushed(cmd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_login_mode_fails_clearly_with_wrong_credentials() {
    let (env, _token) = all_modes().await;
    let url = env.url();
    let wrong_ldap = [
        "--url",
        url,
        "--login-mode",
        "ldap",
        "--user",
        "ann",
        "--password",
        "no",
    ];
    failed(
        env.push(&wrong_ldap),
        &["login failed", "LDAP (16)", "\"ann\"", "401"],
    )
    .await;
    let wrong_standard = ["--url", url, "--user", "ann", "--password", "no"];
    failed(env.push(&wrong_standard), &["login failed", "standard (1)"]).await;
    let wrong_token = ["--url", url, "--api-token", "not-a-token"];
    failed(env.push(&wrong_token), &["API token is not valid", "401"]).await;
    let no_token = ["--url", url, "--login-mode", "api-token"];
    failed(
        env.push(&no_token),
        &["api-token needs a token", "--api-token"],
    )
    .await;
    let guest_with_user = ["--url", url, "--login-mode", "guest", "--user", "ann"];
    failed(
        env.push(&guest_with_user),
        &["guest logs in without credentials"],
    )
    .await;
    let token_with_ldap = ["--url", url, "--login-mode", "ldap", "--api-token", "t"];
    failed(
        env.push(&token_with_ldap),
        &["only with --login-mode api-token"],
    )
    .await;

    // A server with only LDAP: the mode sent is the mode asked for.
    let ldap_only = Env::start(|c| c.with_login_modes([LoginMode::LDAP])).await;
    let url = ldap_only.url();
    pushed(ldap_only.push(&["--url", url, "--login-mode", "ldap"])).await;
    failed(
        ldap_only.push(&["--url", url]),
        &["standard (1) is not enabled", "LDAP (16)"],
    )
    .await;
    let guest = ["--url", url, "--login-mode", "guest"];
    failed(ldap_only.push(&guest), &["guest (8) is not enabled"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_cert_over_tls_succeeds_and_without_it_the_error_says_why() {
    let certs = Certs::new();
    let env = Env::start(|c| c.with_tls(certs.tls())).await;
    assert!(env.url().starts_with("https://127.0.0.1:"), "{}", env.url());
    let ca = certs.ca_file(env.path());
    let ca = ca.to_str().unwrap();
    pushed(env.push(&["--url", env.url(), "--ca-cert", ca])).await;
    let mut by_env = env.push(&["--url", env.url()]);
    by_env.env("PUSHDATA_CA_CERT", ca);
    pushed(by_env).await;
    // The same server by name: the certificate names localhost too.
    let by_name = env.url().replace("127.0.0.1", "localhost");
    pushed(env.push(&["--url", &by_name, "--ca-cert", ca])).await;

    let origin = format!("https://{}", env.server.addr());
    let line = failed(
        env.push(&["--url", env.url()]),
        &[&origin, "is not trusted", "--ca-cert FILE", "--insecure"],
    )
    .await;
    assert!(line.contains("UnknownIssuer"), "{line}");

    // A CA that did not sign the server's certificate does not help.
    let other = Certs::new();
    let other_dir = tempfile::tempdir().unwrap();
    let other_ca = other.ca_file(other_dir.path());
    let wrong_ca = ["--url", env.url(), "--ca-cert", other_ca.to_str().unwrap()];
    failed(env.push(&wrong_ca), &[&origin, "is not trusted"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_connects_and_warns_on_every_run() {
    let certs = Certs::new();
    let env = Env::start(|c| c.with_tls(certs.tls())).await;
    for _ in 0..2 {
        let (_, stderr) = pushed(env.push(&["--url", env.url(), "--insecure"])).await;
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("warning: --insecure"))
            .collect();
        assert_eq!(warnings.len(), 1, "{stderr}");
        assert!(warnings[0].contains(env.url()), "{stderr}");
        // The library's own log line about it is not repeated.
        assert!(!stderr.contains("WARN"), "{stderr}");
    }
    let mut by_env = env.push(&["--url", env.url()]);
    by_env.env("PUSHDATA_INSECURE", "true");
    let (_, stderr) = pushed(by_env).await;
    assert!(stderr.contains("warning: --insecure"), "{stderr}");
    // A false value is no switch: the certificate is checked (and refused).
    let mut off = env.push(&["--url", env.url()]);
    off.env("PUSHDATA_INSECURE", "0");
    failed(off, &["is not trusted"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_ca_files_are_named() {
    let env = Env::start(|c| c).await;
    let missing = env.path().join("no-such-ca.pem");
    let missing = missing.to_str().unwrap();
    failed(
        env.push(&["--url", env.url(), "--ca-cert", missing]),
        &["no-such-ca.pem", "cannot be read"],
    )
    .await;
    let garbage = env.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    failed(
        env.push(&["--url", env.url(), "--ca-cert", garbage]),
        &["garbage.pem", "holds no PEM certificate"],
    )
    .await;
    let broken = env.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    failed(
        env.push(&["--url", env.url(), "--ca-cert", broken.to_str().unwrap()]),
        &[
            "broken.pem",
            "certificate 1",
            "not a usable X.509 certificate",
        ],
    )
    .await;
    // Without a server URL there is no TLS to configure.
    failed(
        env.push(&["--ca-cert", garbage]),
        &["--ca-cert", "needs a server"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_reports_a_refused_certificate_with_the_server() {
    let certs = Certs::new();
    let env = Env::start(|c| c.with_tls(certs.tls())).await;
    let client = Client::builder(env.url()).build().unwrap();
    let e = client
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap_err();
    match &e {
        Error::UntrustedCertificate {
            server, endpoint, ..
        } => {
            assert_eq!(server, &format!("https://{}", env.server.addr()));
            assert!(endpoint.path.ends_with("/api/auth/login"), "{endpoint}");
        }
        other => panic!("expected UntrustedCertificate, got {other:?}"),
    }
    assert!(!e.outcome_unknown());
    let trusted = Client::builder(env.url())
        .with_root_certificate_pem(certs.ca_pem.as_bytes())
        .build()
        .unwrap();
    trusted
        .login(Credentials::standard("administrator", ""))
        .await
        .unwrap();
    assert_eq!(trusted.projects().await.unwrap().len(), 1);
}

/// Write the config file of `env`'s working directory.
fn write_config(env: &Env, text: &str) -> PathBuf {
    let path = env.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A TLS server with two projects and only LDAP logins, user ann (password `pw`); the
/// CA file is written next to the config file.
async fn company_server(certs: &Certs) -> Env {
    let env = Env::start(|c| {
        c.with_tls(certs.tls())
            .with_user("ann", "pw")
            .with_login_modes([LoginMode::LDAP])
            .with_project("Sales", "0123456789ABCDEF0123456789ABCDEF")
            .with_project("Finance", "FEDCBA9876543210FEDCBA9876543210")
    })
    .await;
    certs.ca_file(env.path());
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_supplies_url_user_login_mode_project_and_ca() {
    let certs = Certs::new();
    let env = company_server(&certs).await;
    write_config(
        &env,
        &format!(
            "[profiles.prod]\nurl = \"{}\"\nuser = \"ann\"\nlogin_mode = \"ldap\"\nproject = \"Sales\"\nca_cert = \"ca.pem\"\n\n[profiles.other]\nurl = \"http://127.0.0.1:9/x\"\n",
            env.url()
        ),
    );
    let mut cmd = env.push(&["--profile", "prod"]);
    cmd.env("PUSHDATA_PASSWORD", "pw");
    let (_, stderr) = pushed(cmd).await;
    assert!(!stderr.contains("warning"), "{stderr}");
    let mut by_env = env.push(&[]);
    by_env
        .env("PUSHDATA_PROFILE", "prod")
        .env("PUSHDATA_PASSWORD", "pw");
    pushed(by_env).await;

    // Without the profile's project the user has two to choose from.
    let mut no_project = env.push(&[
        "--url",
        env.url(),
        "--login-mode",
        "ldap",
        "--user",
        "ann",
        "--ca-cert",
        env.path().join("ca.pem").to_str().unwrap(),
    ]);
    no_project.env("PUSHDATA_PASSWORD", "pw");
    failed(no_project, &["2 projects", "--project"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_and_environment_override_the_profile() {
    let certs = Certs::new();
    let env = company_server(&certs).await;
    write_config(
        &env,
        &format!(
            "[profiles.prod]\nurl = \"{}\"\nuser = \"nobody\"\nlogin_mode = \"ldap\"\nproject = \"No Such Project\"\nca_cert = \"ca.pem\"\n",
            env.url()
        ),
    );
    let base = ["--profile", "prod", "--password", "pw"];
    // The profile's own values fail: its user and project do not exist.
    failed(env.push(&base), &["\"nobody\""]).await;
    let fixed = [&base[..], &["--user", "ann", "--project", "Finance"]].concat();
    pushed(env.push(&fixed)).await;
    let mut by_env = env.push(&base);
    by_env
        .env("PUSHDATA_USER", "ann")
        .env("PUSHDATA_PROJECT", "Finance");
    pushed(by_env).await;
    // The flag's login mode wins over the profile's (and this server refuses it).
    let standard = [&fixed[..], &["--login-mode", "standard"]].concat();
    failed(env.push(&standard), &["standard (1) is not enabled"]).await;
    // The flag's URL wins: a server that is not there.
    let elsewhere = [
        &fixed[..],
        &["--url", "https://127.0.0.1:9/MicroStrategyLibrary"],
    ]
    .concat();
    failed(env.push(&elsewhere), &["127.0.0.1:9"]).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_a_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::start(|c| c.with_user("ann", "s3cret-pw")).await;
    let path = write_config(
        &env,
        &format!(
            "[profiles.dev]\nurl = \"{}\"\nuser = \"ann\"\npassword = \"s3cret-pw\"\n",
            env.url()
        ),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, stderr) = pushed(env.push(&["--profile", "dev"])).await;
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(warning.contains(path.to_str().unwrap()), "{warning}");
    assert!(
        warning.contains("644") && warning.contains("chmod 600"),
        "{warning}"
    );
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, stderr) = pushed(env.push(&["--profile", "dev"])).await;
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_profile_lists_the_known_ones_and_the_file() {
    let env = Env::start(|c| c).await;
    let path = env.path().join("config.toml");
    let path = path.to_str().unwrap();
    failed(
        env.push(&["--profile", "prod"]),
        &["no profile \"prod\"", path, "does not exist"],
    )
    .await;
    write_config(&env, "[profiles.dev]\n[profiles.staging]\nuser = \"x\"\n");
    failed(
        env.push(&["--profile", "prod"]),
        &["no profile \"prod\"", path, "\"dev\", \"staging\""],
    )
    .await;
    write_config(&env, "[profiles.dev]\nusr = \"x\"\n");
    failed(env.push(&["--profile", "dev"]), &[path, "line 2", "usr"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_tls_cert_and_key_serves_https() {
    let certs = Certs::new();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    std::fs::write(&cert, &certs.cert_pem).unwrap();
    std::fs::write(&key, &certs.key_pem).unwrap();
    let ca = certs.ca_file(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--login-modes",
            "standard,api-token",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env_remove("PUSHDATA_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_string();
    let pushed_ok = {
        let mut cmd = pushdata(dir.path());
        cmd.arg("push")
            .arg(sales())
            .args(["--json", "--url", &url, "--ca-cert"])
            .arg(&ca);
        run(cmd).await
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(
        pushed_ok.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed_ok.stderr)
    );

    // A key that does not belong to the certificate stops the start, naming the files.
    let other = Certs::new();
    std::fs::write(&key, &other.key_pem).unwrap();
    let mut serve = pushdata(dir.path());
    serve
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path().join("data2"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key);
    failed(
        serve,
        &["server.pem", "server.key", "do not make a usable pair"],
    )
    .await;
    let mut half = pushdata(dir.path());
    half.args(["serve", "--tls-cert"]).arg(&cert);
    let out = run(half).await;
    assert_eq!(out.status.code(), Some(2), "--tls-cert without --tls-key");
}
