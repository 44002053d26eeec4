//! `rapport-plans [CONFIG_FILE]`: the plans service on its own. The same assembly as
//! `rapport serve plans --config CONFIG_FILE` (`rapport::service::serve`): the production check
//! (plaintext and no authentication refused unless `server.insecure`), outbox delivery to the
//! configured upstreams with their TLS settings, the business clock's guard.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport::service::standalone(rapport::service::ServiceName::Plans).await
}
