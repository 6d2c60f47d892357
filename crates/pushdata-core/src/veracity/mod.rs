//! Veracity Data Workbench ingest: the wire format ([`wire`]), shared by the client and the
//! emulation server.

pub mod wire;
