//! Inputs in Azure Blob Storage, end to end through the CLI: the Azurite emulator on
//! loopback holds the sample table in every format; each is pushed by its `az://` URL
//! into the embedded reference server and the stored rows compared exactly.
//!
//! The emulator is `$PUSHDATA_AZURITE_BLOB`, else the `azurite/node_modules/.bin/azurite-blob`
//! that `.ci/run` installs into the target directory (from npm). Without it the test skips,
//! saying why.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::emulator::{self, Emulator};
use common::pushdata;
use common::tables::{THREE, batch, in_every_format, rows, stored_rows};
use hmac::{Hmac, Mac};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use tempfile::TempDir;

/// Azurite's well-known development account and key (public, in Azure's documentation).
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "2021-08-06";

/// Azurite on a free loopback port (in memory, no telemetry).
struct Azurite(Emulator);

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
        Emulator::start(bin, args).map(Azurite)
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.0.port)
    }

    /// Create `container` (a Shared Key signed request: Azurite refuses anonymous ones).
    async fn create_container(&self, container: &str) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n\
             /{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&STANDARD.decode(KEY).unwrap()).unwrap();
        mac.update(to_sign.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        let status = reqwest::Client::new()
            .put(format!("{}/{container}?restype=container", self.endpoint()))
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
}

#[test]
fn azure_blobs_in_every_format_are_pushed() {
    let azurite = match Azurite::start() {
        Ok(a) => a,
        Err(why) => {
            println!("skipped: no Azure emulator: {why}");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(azurite.create_container("lake"));
    let store = MicrosoftAzureBuilder::new()
        .with_account(ACCOUNT)
        .with_access_key(KEY)
        .with_endpoint(azurite.endpoint())
        .with_allow_http(true)
        .with_container_name("lake")
        .build()
        .unwrap();
    for (name, bytes) in in_every_format("sample", &batch(&[1, 2, 3])) {
        let path = ObjectPath::from(format!("formats/{name}"));
        rt.block_on(store.put(&path, PutPayload::from(bytes)))
            .unwrap();
    }
    let tmp = TempDir::new().unwrap();
    for ext in ["parquet", "feather", "arrows", "csv", "jsonl"] {
        let url = format!("az://lake/formats/sample.{ext}");
        let out = pushdata(tmp.path())
            // the key from the environment, as the Azure CLI reads it
            .env("AZURE_STORAGE_ACCOUNT_KEY", KEY)
            .args(["push", &url, "--table", ext, "--dataset", ext, "--json"])
            .args([
                "--storage-option",
                &format!("azure_storage_account_name={ACCOUNT}"),
            ])
            .args([
                "--storage-option",
                &format!("azure_endpoint={}", azurite.endpoint()),
            ])
            .args(["--storage-option", "azure_allow_http=true"])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "push {url} failed: {stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = v["datasetId"].as_str().unwrap();
        assert_eq!(stored_rows(tmp.path(), id, ext), rows(THREE), "{url}");
    }
}
