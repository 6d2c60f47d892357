//! # pushdata-core
//!
//! The Push Data API wire types ([`wire`]), shared by the client and the reference server,
//! and the async HTTP [`Client`].
//!
//! ```no_run
//! use pushdata_core::{Client, Credentials, PublishWait};
//! use pushdata_core::wire::ChunkBody;
//!
//! # async fn run(model: pushdata_core::wire::DatasetModel,
//! #              session: pushdata_core::wire::UploadSessionRequest) -> pushdata_core::Result<()> {
//! let client = Client::builder("http://127.0.0.1:8080/MicroStrategyLibrary").build()?;
//! client.login(Credentials::standard("administrator", "")).await?;
//! client.select_project("MicroStrategy Tutorial").await?;
//! let dataset = client.create_model(&model).await?;
//! let upload = client.create_upload_session(&dataset.id, &session).await?;
//! // base64 of [[1,"2017-12-4","11:00:00","Books",100.52]]
//! let chunk = ChunkBody::from_base64("table1", 1, b"W1sxLCIyMDE3LTEyLTQiLCIxMTowMDowMCIsIkJvb2tzIiwxMDAuNTJdXQ==");
//! client.put_chunk(&dataset.id, &upload, &chunk).await?;
//! client.publish(&dataset.id, &upload).await?;
//! client.wait_for_publish(&dataset.id, &upload, &PublishWait::default()).await?;
//! client.logout().await?;
//! # Ok(())
//! # }
//! ```

pub mod allocator;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod client;
pub mod error;
pub mod secret;
pub mod veracity;
pub mod wire;

pub use client::{BackoffConfig, Client, ClientBuilder, Credentials, PublishWait, RetryConfig};
pub use client::{Folder, FolderPage};
pub use error::{Endpoint, Error, Result};
pub use secret::Secret;
