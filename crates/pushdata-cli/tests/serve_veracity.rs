//! `pushdata serve` runs the Veracity emulation with the credentials it is given (flags or
//! `PUSHDATA_VERACITY_*`), says where it listens, and never prints a secret it was given.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// POST the client-credentials form to the emulation's token endpoint; the status.
async fn token_status(addr: &str, id: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/tenant.onmicrosoft.com/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            (
                "resource",
                "https://dnvglb2cprod.onmicrosoft.com/dfc-veracity-api",
            ),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn serve_takes_the_veracity_credentials_and_prints_no_given_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_pushdata"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--veracity-client-id", "etl-account"])
        .env("PUSHDATA_VERACITY_CLIENT_SECRET", "s3cret-from-env")
        .env_remove("PUSHDATA_VERACITY_SUBSCRIPTION_KEY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let addr = url
        .trim()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut stderr = BufReader::new(serve.stderr.take().unwrap());
    let mut announced = String::new();
    while !announced.starts_with("veracity emulation:") {
        announced.clear();
        assert!(
            stderr.read_line(&mut announced).unwrap() > 0,
            "no announcement"
        );
    }
    assert!(
        announced.contains(&format!("http://{addr}/veracity/dw/gateway/api/v2")),
        "{announced}"
    );
    assert!(announced.contains("etl-account"), "{announced}");
    assert!(
        announced.contains("client secret (as given)"),
        "{announced}"
    );
    assert!(!announced.contains("s3cret-from-env"), "{announced}");
    assert!(
        announced.contains("pushdata-veracity-key (the default)"),
        "{announced}"
    );

    assert_eq!(
        token_status(&addr, "etl-account", "s3cret-from-env").await,
        200
    );
    assert_eq!(
        token_status(&addr, "etl-account", "pushdata-veracity-secret").await,
        401,
        "the default secret no longer works"
    );
    let _ = serve.kill();
    let _ = serve.wait();
}
