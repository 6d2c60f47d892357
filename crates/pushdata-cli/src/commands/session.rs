//! A session on a server, shared by the commands that talk to one: log in, choose the
//! project, do the work, log out (whatever the work's outcome).

use pushdata_core::Client;

use crate::connection::Connection;
use crate::error::{CliError, Result};

/// Log in to `url` as `connection` says, select its project (or the user's only
/// project), run `work`, log out. A failed logout is logged, not returned: the work's
/// result is what matters.
pub(crate) async fn with_session<T>(
    connection: &Connection,
    url: &str,
    work: impl AsyncFnOnce(&Client) -> Result<T>,
) -> Result<T> {
    let client = connection.client(url)?;
    client
        .login(connection.credentials())
        .await
        .map_err(|e| CliError::connecting(url, e))?;
    let result = async {
        choose_project(&client, connection.project.as_deref()).await?;
        work(&client).await
    }
    .await;
    if let Err(e) = client.logout().await {
        tracing::warn!("logging out failed: {e}");
    }
    result
}

/// `--project`, or the only project the user can see.
async fn choose_project(client: &Client, project: Option<&str>) -> Result<()> {
    if let Some(project) = project {
        client.select_project(project).await?;
        return Ok(());
    }
    match client.select_only_project().await {
        Ok(_) => Ok(()),
        Err(pushdata_core::Error::ProjectNotChosen { available }) if available.is_empty() => {
            Err(CliError::Usage("the user can see no project".into()))
        }
        Err(pushdata_core::Error::ProjectNotChosen { available }) => Err(CliError::Usage(format!(
            "the user can see {} projects; choose one with --project: {}",
            available.len(),
            available
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Err(e) => Err(e.into()),
    }
}
