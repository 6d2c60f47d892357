//! The native module of the `pushdata` Python package, `pushdata._native`: a thin binding
//! over `pushdata-arrow`, `pushdata-core` and `pushdata-server`, with no protocol logic of
//! its own. The Python API (`pushdata.connect`, `serve`, `schema`, ...) is in
//! `python/pushdata/`; this module is private to it.
//!
//! Every network operation runs on one Tokio runtime as a `Job` that Python waits for with
//! the GIL released, a short timeout at a time, so that Ctrl-C is seen promptly and stops
//! the operation (a push cancels its upload session). Arrow data crosses in both directions
//! through the Arrow C data and stream interfaces (`arrow::pyarrow`), zero-copy.

mod client;
mod convert;
mod errors;
mod job;
mod push;
mod schema;
mod server;
mod veracity;

use pyo3::prelude::*;

/// The module: its classes, functions and the base exception class.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PushdataError", m.py().get_type::<errors::PushdataError>())?;
    m.add("DEFAULT_USER", client::DEFAULT_USER)?;
    m.add_class::<job::Job>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<client::Client>()?;
    m.add_function(wrap_pyfunction!(client::connect, m)?)?;
    m.add_function(wrap_pyfunction!(schema::schema, m)?)?;
    m.add_function(wrap_pyfunction!(schema::input_name, m)?)?;
    veracity::register(m)?;
    Ok(())
}
