//! Start the reference server from code, talk to it with the client, stop it.
//!
//! ```bash
//! cargo run --example start_server            # start, list projects, stop
//! cargo run --example start_server -- --wait  # keep serving until Ctrl-C
//! ```

use std::error::Error;

use pushdata::core::{Client, Credentials};
use pushdata::server::{Server, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let wait = std::env::args().any(|a| a == "--wait");
    // Durable storage: datasets live on in this directory after the server stops.
    let data_dir = tempfile::tempdir()?;
    let config = ServerConfig::new(data_dir.path().to_path_buf())
        .with_addr("127.0.0.1:0".parse()?)
        .with_user("administrator", "");
    let server = Server::start(config).await?;
    println!("reference server at {}", server.base_url());

    let client = Client::builder(server.base_url()).build()?;
    client
        .login(Credentials::standard("administrator", ""))
        .await?;
    for project in client.projects().await? {
        println!("project {:?} ({})", project.name, project.id);
    }
    client.logout().await?;

    if wait {
        println!("serving until Ctrl-C");
        tokio::signal::ctrl_c().await?;
    }
    server.shutdown().await?;
    println!("stopped");
    Ok(())
}
