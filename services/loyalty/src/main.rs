//! `rapport-loyalty [CONFIG_FILE]`: the loyalty service on its own (also `rapport serve loyalty`).

use anyhow::Context;
use rapport_server::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let file = std::env::args_os().nth(1).map(std::path::PathBuf::from);
    let settings: rapport_loyalty::Settings =
        rapport_config::load(file.as_deref()).context("loading configuration")?;
    let _telemetry = rapport_telemetry::init(&settings.telemetry)?;
    let unit = rapport_loyalty::unit_with(
        &settings.server,
        &settings.storage,
        settings.rules.clone(),
        std::sync::Arc::new(rapport_clock::SystemClock),
        &settings.profiles_url,
    )?;
    let application = Application::build(settings.server.clone(), vec![unit]).await?;
    application
        .run_until_stopped(rapport_server::shutdown_signal())
        .await?;
    Ok(())
}
