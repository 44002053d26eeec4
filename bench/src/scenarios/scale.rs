//! The figures at bank scale: batch rescoring, the trust batch and its online update, GetTrust
//! and SearchCustomers at `--scale` customers (issue 23's rows for 1 M customers / 5 M links).
//!
//! Each is its service's own bench (`services/<svc>/benches/`), run here by `cargo bench` from
//! `--workspace` under `taskset -c --scale-cores`, its output passed to the log and its
//! `figure:` lines read back into the table. Those benches seed their own SQLite databases with
//! direct SQL — a million customers through the API would take hours — and serve GetTrust and
//! SearchCustomers from the service's code on a real gRPC server over loopback; they do not run
//! `--rapport`. A run counts when the bench exits successfully and printed every figure the row
//! needs; GetTrust's also needs every read answered from the stored table.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::Options;
use crate::report::{self, Row};

/// `figure: <name> key=value …` lines, by name then key.
#[derive(Debug, Default)]
struct Figures(BTreeMap<String, BTreeMap<String, String>>);

impl Figures {
    fn read(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("figure: ") else {
            return;
        };
        let mut words = rest.split_whitespace();
        let Some(name) = words.next() else {
            return;
        };
        let values = self.0.entry(name.to_owned()).or_default();
        for word in words {
            if let Some((key, value)) = word.split_once('=') {
                values.insert(key.to_owned(), value.to_owned());
            }
        }
    }

    fn number(&self, name: &str, key: &str) -> anyhow::Result<f64> {
        let text = self
            .0
            .get(name)
            .and_then(|values| values.get(key))
            .with_context(|| format!("the bench printed no figure {name}.{key}"))?;
        text.parse()
            .with_context(|| format!("figure {name}.{key} is not a number: {text:?}"))
    }
}

/// Runs `cargo bench -p package --bench bench` with `env`; its stdout goes to the log line by
/// line (cargo's own progress to our stderr as it comes).
fn cargo_bench(
    options: &Options,
    package: &str,
    bench: &str,
    env: &[(&str, String)],
) -> anyhow::Result<Figures> {
    report::progress(&format!(
        "cargo bench -p {package} --bench {bench} in {} on cores {}, {}",
        options.workspace.display(),
        options.scale_cores,
        env.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    // The harness pinned itself to the generator's core, and children inherit that: taskset
    // gives the bench the cores it is meant to have (the batch uses both).
    let mut child = Command::new("taskset")
        .args(["-c", &options.scale_cores, "cargo", "bench", "-p", package])
        .args(["--bench", bench])
        .current_dir(&options.workspace)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("running cargo bench (is cargo on PATH, and --workspace the checkout?)")?;
    let mut figures = Figures::default();
    let stdout = child.stdout.take().context("the bench's stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading the bench's output")?;
        report::progress(&format!("  | {line}"));
        figures.read(&line);
    }
    let status = child.wait().context("waiting for the bench")?;
    anyhow::ensure!(
        status.success(),
        "cargo bench -p {package} --bench {bench}: {status}"
    );
    Ok(figures)
}

/// Says in the log whether a figure meets the goal issue 23 states for it.
fn goal(what: &str, value: f64, most: f64, unit: &str) {
    let verdict = if value <= most { "met" } else { "NOT MET" };
    report::progress(&format!(
        "goal (issue 23, at 1 M customers): {what} ≤ {most} {unit}: {value:.2} {unit}, {verdict}"
    ));
}

fn millis(ms: f64) -> String {
    format!("{ms:.2} ms")
}

/// `rapport_loyalty::rescore::rescore_all` over `--scale` customers with about 12 signals each,
/// then a rerun with nothing changed (the history it writes per unchanged customer).
pub(crate) fn rescore(options: &Options) -> anyhow::Result<Vec<Row>> {
    let figures = cargo_bench(
        options,
        "rapport-loyalty",
        "rescore",
        &[("RESCORE_CUSTOMERS", options.scale.to_string())],
    )?;
    let customers = figures.number("rescore", "customers")?;
    let seconds = figures.number("rescore", "seconds")?;
    let rerun = figures.number("rescore_rerun", "seconds")?;
    let bytes = figures.number("rescore_rerun", "bytes_per_unchanged")?;
    goal("batch rescoring", seconds, 60.0, "s");
    goal(
        "history per unchanged customer per run",
        bytes,
        200.0,
        "bytes",
    );
    Ok(vec![
        Row {
            path: format!(
                "batch rescoring, {customers:.0} customers (SQLite, cores {})",
                options.scale_cores
            ),
            value: format!("{seconds:.1} s ({:.0}/s)", customers / seconds),
            rss: format!("peak {:.0} MiB", figures.number("rescore", "peak_rss_mib")?),
            counted: true,
            ..Row::default()
        },
        Row {
            path: "  rerun, no signal changed".into(),
            value: format!("{rerun:.1} s; {bytes:.1} B history per unchanged customer"),
            counted: true,
            ..Row::default()
        },
    ])
}

/// The trust bench at `--scale` customers and five times as many links: the batch, the online
/// update after one vouch (median of five), and GetTrust from the stored table.
pub(crate) fn trust(options: &Options) -> anyhow::Result<Vec<Row>> {
    let nodes = options.scale.to_string();
    let edges = (options.scale * 5).to_string();
    let figures = cargo_bench(
        options,
        "rapport-referrals",
        "trust",
        &[
            ("TRUST_BENCH_NODES", nodes.clone()),
            ("TRUST_BENCH_EDGES", edges.clone()),
            ("TRUST_BENCH_STORE_NODES", nodes.clone()),
            ("TRUST_BENCH_STORE_EDGES", edges),
            ("TRUST_BENCH_READ_ROWS", nodes),
        ],
    )?;
    let p99 = figures.number("get_trust", "p99_ms")?;
    let online = figures.number("get_trust", "computed_online")?;
    goal("GetTrust p99 (5 M links)", p99, 5.0, "ms");
    let from_table = online == 0.0;
    if !from_table {
        report::not_counted(
            "GetTrust",
            &format!("{online} reads were computed online, not served from the stored table"),
        );
    }
    Ok(vec![
        Row {
            path: format!(
                "trust batch, {:.0} customers / {:.0} links (SQLite)",
                figures.number("trust_batch", "nodes")?,
                figures.number("trust_batch", "edges")?
            ),
            value: format!(
                "{:.1} s; error bound {:.1e}",
                figures.number("trust_batch", "seconds")?,
                figures.number("trust_batch", "error_bound")?
            ),
            counted: true,
            ..Row::default()
        },
        Row {
            path: format!(
                "  online update after one vouch (median of {:.0})",
                figures.number("trust_online", "runs")?
            ),
            value: format!("{:.0} ms", figures.number("trust_online", "median_ms")?),
            counted: true,
            ..Row::default()
        },
        Row {
            path: format!(
                "GetTrust from the stored table ({:.0} rows)",
                figures.number("get_trust", "rows")?
            ),
            value: format!("{:.0} reads", figures.number("get_trust", "reads")?),
            p50: millis(figures.number("get_trust", "p50_ms")?),
            p99: millis(p99),
            counted: from_table,
            ..Row::default()
        },
    ])
}

/// SearchCustomers by name over `--scale` customers, each of 1,000 searches timed once.
pub(crate) fn search(options: &Options) -> anyhow::Result<Vec<Row>> {
    let figures = cargo_bench(
        options,
        "rapport-profiles",
        "search",
        &[
            ("SEARCH_CUSTOMERS", options.scale.to_string()),
            ("SEARCH_REPEATS", "1".into()),
        ],
    )?;
    let p99 = figures.number("search", "p99_ms")?;
    goal("SearchCustomers p99", p99, 10.0, "ms");
    Ok(vec![Row {
        path: format!(
            "SearchCustomers by name, {:.0} customers (SQLite)",
            figures.number("search", "customers")?
        ),
        value: format!(
            "{:.0} searches, each timed once",
            figures.number("search", "searches")?
        ),
        p50: millis(figures.number("search", "p50_ms")?),
        p99: millis(p99),
        counted: true,
        ..Row::default()
    }])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::Figures;

    #[test]
    fn figures_are_read_by_name_and_key() {
        let mut figures = Figures::default();
        figures.read("seeded 10 customers in 0.1 s");
        figures.read("figure: search customers=1000000 p50_ms=1.250 p99_ms=8.680");
        assert_eq!(figures.number("search", "p99_ms").unwrap(), 8.68);
        assert_eq!(figures.number("search", "customers").unwrap(), 1e6);
        assert!(figures.number("search", "max_ms").is_err());
        assert!(figures.number("rescore", "seconds").is_err());
    }
}
