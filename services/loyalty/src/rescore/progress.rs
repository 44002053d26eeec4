//! How a rescoring run shows how far it is, besides its log line every 10 s.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Told the total once, then the customers done after each transaction.
pub trait Progress: Send {
    fn start(&mut self, total: u64);
    fn advance(&mut self, done: u64);
    fn finish(&mut self, done: u64);
}

/// No progress shown (the log lines remain).
impl Progress for () {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self, _: u64) {}
}

/// A progress bar on standard error, drawn only when it is a terminal (a CronJob's log gets the
/// log lines alone).
#[derive(Debug)]
pub struct TerminalBar(ProgressBar);

impl TerminalBar {
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{wide_bar} {human_pos}/{human_len} customers, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self(bar)
    }
}

impl Default for TerminalBar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TerminalBar {
    fn start(&mut self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&mut self, done: u64) {
        self.0.set_position(done);
    }
    fn finish(&mut self, done: u64) {
        self.0.set_position(done);
        self.0.finish();
    }
}
