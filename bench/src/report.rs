//! What the harness prints: progress on stderr, the table of figures on stdout.

use std::time::Duration;

use crate::{Options, Scenario};

/// One line of the table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub path: String,
    pub value: String,
    pub baseline: String,
    pub ratio: String,
    pub p50: String,
    pub p99: String,
    pub rss: String,
    /// The server's OK count matched the generator's (and no call failed).
    pub counted: bool,
}

impl Row {
    pub(crate) fn failed(scenario: Scenario, error: &anyhow::Error) -> Self {
        Self {
            path: format!("{scenario:?}"),
            value: format!(
                "FAILED: {}",
                first_line(&format!("{error:#}"))
                    .chars()
                    .take(100)
                    .collect::<String>()
            ),
            ..Self::default()
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// A line of progress, on stderr so stdout holds only the table.
pub(crate) fn progress(message: &str) {
    #[allow(clippy::print_stderr)] // the harness's own output
    {
        eprintln!("{message}");
    }
}

/// A run that did not count, loudly.
pub(crate) fn not_counted(what: &str, why: &str) {
    progress(&format!("!!!!!!!! NOT COUNTED: {what}: {why} !!!!!!!!"));
}

pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub(crate) fn ratio(value: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        format!("{:.3}", value / baseline)
    } else {
        "-".to_owned()
    }
}

/// The table, then the conditions it was measured under.
/// The 1, 5 and 15 minute load averages: other processes sharing the cores show here.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

pub(crate) fn print(rows: &[Row], options: &Options, took: Duration, load_at_start: &str) {
    let header = Row {
        path: "path".into(),
        value: "value".into(),
        baseline: "baseline".into(),
        ratio: "ratio".into(),
        p50: "p50".into(),
        p99: "p99".into(),
        rss: "RSS".into(),
        counted: true,
    };
    let cells = |row: &Row| {
        [
            row.path.clone(),
            row.value.clone(),
            row.baseline.clone(),
            row.ratio.clone(),
            row.p50.clone(),
            row.p99.clone(),
            row.rss.clone(),
            if row.counted { "yes" } else { "NO" }.to_owned(),
        ]
    };
    let mut table: Vec<[String; 8]> = vec![cells(&header)];
    table[0][7] = "counted".into();
    table.extend(rows.iter().map(cells));
    let mut widths = [0usize; 8];
    for line in &table {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, line) in table.iter().enumerate() {
        let formatted: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(&format!("| {} |\n", formatted.join(" | ")));
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        }
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_default();
    // Not available_parallelism: the generator is pinned to one core.
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| info.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or_default();
    let end = load_average();
    out.push_str(&format!(
        "\n{} on {} ({}, {} cores); servers on core {}, generator and pgbench on core {}; \
         {} s measured after {} s warm-up; {} clients ({} mixed) over {} HTTP/2 connections; \
         scenarios at scale: {} customers, by cargo bench on cores {}; whole run {:.0} s; \
         load average {} at the start, {} at the end\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
        host.trim(),
        cpu,
        cores,
        options.server_core,
        options.client_core,
        options.duration,
        options.warmup,
        options.clients,
        options.mixed_clients,
        options.connections,
        options.scale,
        options.scale_cores,
        took.as_secs_f64(),
        load_at_start,
        end,
    ));
    // Pinning decides which core we run on, not who else runs there. Read before we start
    // anything: during the run our own server, generator and PostgreSQL add about 2.
    let before = load_at_start
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .unwrap_or_default();
    if cores > 0 && before > cores as f64 / 2.0 {
        out.push_str(&format!(
            "WARNING: the machine was busy before the run (1-minute load average {before:.2} on {cores} cores): \
             other processes shared the pinned cores, so these figures and ratios are not reliable; \
             re-run on a quiet machine.\n"
        ));
    }
    if rows.iter().any(|row| !row.counted) {
        out.push_str("SOME RUNS WERE NOT COUNTED: see the lines marked NOT COUNTED above.\n");
    }
    #[allow(clippy::print_stdout)] // the harness's product
    {
        print!("{out}");
    }
}
