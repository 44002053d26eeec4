//! `rapport-desk [CONFIG_FILE]`: the agent's desk on its own. The same assembly as
//! `rapport serve desk --config CONFIG_FILE` (`rapport::service::serve`): the production check
//! (plaintext and no authentication refused unless `server.insecure`), the four services it asks
//! from `[desk]` with the `[client]` TLS settings, and no database.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport::service::standalone(rapport::service::ServiceName::Desk).await
}
