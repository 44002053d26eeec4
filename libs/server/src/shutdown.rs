use std::future::Future;

/// Resolves on SIGTERM (how Kubernetes and `docker stop` ask) or Ctrl-C (SIGINT).
///
/// The handlers are installed when this is called, not when the future is first polled: a
/// SIGTERM that arrives after the process reports `SERVING` but before the serve loop polls
/// the signal must stop it gracefully, not kill it with the default action (seen in a test:
/// the process exited from the signal instead of 0). Call it inside the runtime, before
/// serving.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            let (mut terminate, mut interrupt) = match (terminate, interrupt) {
                (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::error!(%error, "cannot listen for SIGTERM or Ctrl-C");
                    return std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("Ctrl-C received, shutting down"),
                _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("Ctrl-C received, shutting down");
    }
}

#[cfg(all(test, unix))]
mod tests {
    /// A SIGTERM sent after the call and before the first poll is not lost (and does not kill
    /// the test process, which it would with no handler installed).
    #[tokio::test]
    async fn a_signal_before_the_first_poll_is_kept() {
        let signal = super::shutdown_signal();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        tokio::time::timeout(std::time::Duration::from_secs(5), signal)
            .await
            .expect("the signal was seen");
    }
}
