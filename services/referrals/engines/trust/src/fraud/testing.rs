//! Helpers shared by the fraud tests.

use super::{Finding, Severity, Signal, normalise_address};

pub(crate) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

pub(crate) fn address(lines: &[&str], postal: &str, country: &str) -> String {
    normalise_address(&strings(lines), postal, country).expect("an address")
}

pub(crate) fn signals(findings: &[Finding]) -> Vec<(Signal, Severity)> {
    findings.iter().map(|f| (f.signal, f.severity)).collect()
}

pub(crate) fn has(findings: &[Finding], signal: Signal) -> bool {
    findings
        .iter()
        .any(|f| f.signal == signal && f.severity == Severity::Strong)
}
