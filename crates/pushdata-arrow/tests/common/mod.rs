//! The reference server on 127.0.0.1:0 with a logged-in client, shared by the end-to-end
//! test files (each uses the parts it needs); its Veracity emulation with a client
//! (`veracity`); a fault-injecting HTTP proxy for what the server cannot do (`fault_proxy`) and a TCP one
//! that resets, stalls and drops connections (`tcp_proxy`).
#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod fault_proxy;
pub(crate) mod tcp_proxy;
pub(crate) mod veracity;

use arrow_array::RecordBatch;
use pushdata_core::{Client, Credentials};
use pushdata_server::{Server, ServerConfig, ServerHandle};

/// A running reference server, its temporary directory and a client logged in to it.
pub(crate) struct Env {
    pub server: Option<ServerHandle>,
    pub dir: tempfile::TempDir,
    pub client: Client,
}

impl Env {
    /// The reference server with default settings.
    pub(crate) async fn start() -> Env {
        Self::start_with(|c| c).await
    }

    /// The reference server configured by `f`, data under `dir/data`.
    pub(crate) async fn start_with(f: impl FnOnce(ServerConfig) -> ServerConfig) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(f(ServerConfig::new(dir.path().join("data"))))
            .await
            .unwrap();
        let client = Client::builder(server.base_url()).build().unwrap();
        client
            .login(Credentials::standard("administrator", ""))
            .await
            .unwrap();
        client
            .select_project("MicroStrategy Tutorial")
            .await
            .unwrap();
        Env {
            server: Some(server),
            dir,
            client,
        }
    }

    /// The server's base URL.
    pub(crate) fn base_url(&self) -> String {
        self.server.as_ref().unwrap().base_url().to_string()
    }

    /// The published rows of a table, read from the server's data directory.
    pub(crate) fn read(&self, dataset_id: &str, table: &str) -> Vec<RecordBatch> {
        pushdata_server::read_table(&self.dir.path().join("data"), dataset_id, table).unwrap()
    }

    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.unwrap();
        }
    }
}
