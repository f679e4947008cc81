//! Read-only Docker Engine API proxy (`tars docker-api`). PLACEHOLDER.

/// Flags of `tars docker-api`.
#[derive(Debug, Clone, clap::Args)]
pub struct DockerApiArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3001")]
    pub listen: String,
}

/// Errors of the proxy.
#[derive(Debug, thiserror::Error)]
pub enum DockerApiError {
    #[error("docker-api is not implemented yet")]
    NotImplemented,
}

/// Runs the proxy until SIGTERM/SIGINT.
pub fn run(_args: DockerApiArgs) -> Result<(), DockerApiError> {
    Err(DockerApiError::NotImplemented)
}
