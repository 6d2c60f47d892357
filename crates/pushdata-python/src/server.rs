//! The reference server, run in process: `pushdata.serve(dir)`.

use std::net::SocketAddr;
use std::path::PathBuf;

use parking_lot::Mutex;
use pushdata_core::Secret;
use pushdata_server::{Server as RustServer, ServerConfig, ServerHandle};
use pyo3::prelude::*;

use crate::errors::{config_error, server_error};
use crate::job::block_on;

/// A reference server running on the module's runtime until [`Server::stop`].
#[pyclass(module = "pushdata._native", frozen)]
pub(crate) struct Server {
    handle: Mutex<Option<ServerHandle>>,
    url: String,
    addr: SocketAddr,
    data_dir: PathBuf,
}

#[pymethods]
impl Server {
    /// Start a server storing into `data_dir` (created if missing), on `addr` (a free
    /// loopback port by default). `user` and `password` replace the default user
    /// (`administrator` with an empty password), as `pushdata serve --user` does.
    #[new]
    #[pyo3(signature = (data_dir, addr="127.0.0.1:0", user=None, password=None))]
    fn start(
        py: Python<'_>,
        data_dir: PathBuf,
        addr: &str,
        user: Option<String>,
        password: Option<String>,
    ) -> PyResult<Self> {
        let addr: SocketAddr = addr
            .parse()
            .map_err(|e| config_error(py, format!("invalid server address {addr:?}: {e}")))?;
        let data_dir = std::path::absolute(&data_dir).map_err(|e| {
            config_error(
                py,
                format!("resolving the data directory {}: {e}", data_dir.display()),
            )
        })?;
        let mut config = ServerConfig::new(data_dir.clone()).with_addr(addr);
        if user.is_some() || password.is_some() {
            let user = user.unwrap_or_else(|| crate::client::DEFAULT_USER.to_string());
            config = config.with_user(user, Secret::new(password.unwrap_or_default()));
        }
        let handle = block_on(py, RustServer::start(config))?.map_err(|e| server_error(py, &e))?;
        Ok(Server {
            url: handle.base_url().to_string(),
            addr: handle.addr(),
            handle: Mutex::new(Some(handle)),
            data_dir,
        })
    }

    /// The base URL clients connect to, `http://127.0.0.1:PORT/MicroStrategyLibrary`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The bound address, `127.0.0.1:PORT` (the Veracity emulation's service root is
    /// `http://ADDR`).
    #[getter]
    fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// The data directory (absolute).
    #[getter]
    fn data_dir(&self) -> PathBuf {
        self.data_dir.clone()
    }

    /// Whether the server is running.
    #[getter]
    fn running(&self) -> bool {
        self.handle.lock().is_some()
    }

    /// Stop accepting connections, finish the requests in flight, release the data
    /// directory. Stopping a stopped server does nothing.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let handle = self.handle.lock().take();
        if let Some(handle) = handle {
            block_on(py, handle.shutdown())?.map_err(|e| server_error(py, &e))?;
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "running" } else { "stopped" };
        format!(
            "<pushdata.Server {} ({state}), data in {}>",
            self.url,
            self.data_dir.display()
        )
    }
}
