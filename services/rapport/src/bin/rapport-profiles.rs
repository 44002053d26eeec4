//! `rapport-profiles [CONFIG_FILE]`: the profiles service on its own. The same assembly as
//! `rapport serve profiles --config CONFIG_FILE` (`rapport::service::serve`): the production check
//! (plaintext and no authentication refused unless `server.insecure`), outbox delivery to the
//! configured upstreams with their TLS settings, the business clock's guard.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport::service::standalone(rapport::service::ServiceName::Profiles).await
}
