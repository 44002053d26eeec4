//! Fraud signals for referral rewards (DESIGN.md, "Rules with numbers: Referrals"; issue 6):
//! self-referral by email, phone, postal address or device; cycles and dense rings in the
//! referral graph; velocity. A shared IP address is a weak signal only: offices, dormitories and
//! mobile carriers put many honest people behind one address, so it never holds a reward alone.
//!
//! Everything here is pure. The service loads identities, timestamps and edges, and turns each
//! finding into a `FraudFlag`. Evidence never carries a raw email, phone, address or device hash
//! (the proto: "Evidence, without raw personal data"); it names positions in the caller's lists,
//! so a reviewer with access can look the values up. Evidence keys are unique within a finding,
//! so they fit `Reason.params`.

mod contact;
mod graph;
mod self_referral;
#[cfg(test)]
mod testing;
mod velocity;

pub use contact::{ADDRESS_KEY_SEPARATOR, normalise_address, normalise_email, normalise_phone};
pub use graph::{DenseRingRule, ReferralGraph, graph_findings};
pub use self_referral::self_referral;
pub use velocity::{DEFAULT_MAX_REFERRALS_PER_DAY, VELOCITY_WINDOW_SECONDS, velocity};

/// What is known of one side of a referral: the referrer, or the referee (or prospect).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// As given; normalised here (normalising twice changes nothing).
    pub emails: Vec<String>,
    /// As given; normalised here.
    pub phones: Vec<String>,
    /// Already normalised with [`normalise_address`].
    pub addresses: Vec<String>,
    /// Opaque device fingerprint hashes; compared trimmed and ignoring ASCII case.
    pub device_hashes: Vec<String>,
    /// As the service saw them; a match is a weak signal only.
    pub ip_addresses: Vec<String>,
}

/// A fraud signal; each maps to one `FraudSignal` of the proto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    SelfReferralEmail,
    SelfReferralPhone,
    SelfReferralAddress,
    SelfReferralDevice,
    SharedIp,
    Velocity,
    Cycle,
    DenseRing,
}

impl Signal {
    /// Every signal holds rewards until a reviewer resolves it, except a shared IP address.
    pub fn severity(self) -> Severity {
        match self {
            Self::SharedIp => Severity::Weak,
            _ => Severity::Strong,
        }
    }

    /// Stable machine code: the proto enum's name, e.g. `FRAUD_SIGNAL_SHARED_IP` (the service's
    /// edge checks that every code is the name of the `FraudSignal` it maps to).
    pub fn code(self) -> &'static str {
        match self {
            Self::SelfReferralEmail => "FRAUD_SIGNAL_SELF_REFERRAL_EMAIL",
            Self::SelfReferralPhone => "FRAUD_SIGNAL_SELF_REFERRAL_PHONE",
            Self::SelfReferralAddress => "FRAUD_SIGNAL_SELF_REFERRAL_ADDRESS",
            Self::SelfReferralDevice => "FRAUD_SIGNAL_SELF_REFERRAL_DEVICE",
            Self::SharedIp => "FRAUD_SIGNAL_SHARED_IP",
            Self::Velocity => "FRAUD_SIGNAL_VELOCITY",
            Self::Cycle => "FRAUD_SIGNAL_CYCLE",
            Self::DenseRing => "FRAUD_SIGNAL_DENSE_RING",
        }
    }
}

/// How much a finding weighs. Ordered: `Weak < Strong`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Recorded and shown to reviewers; never holds a reward on its own.
    Weak,
    /// Holds rewards until resolved.
    Strong,
}

impl Severity {
    pub fn holds_rewards(self) -> bool {
        self == Self::Strong
    }
}

/// Whether any of `findings` holds the rewards of the referral they were raised on.
pub fn holds_rewards(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity.holds_rewards())
}

/// A signal raised, with a plain-language message and the evidence behind it (no raw personal
/// data; keys unique within the finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub signal: Signal,
    pub severity: Severity,
    pub message: String,
    pub evidence: Vec<(String, String)>,
}

impl Finding {
    fn new(signal: Signal, message: String, evidence: Vec<(String, String)>) -> Self {
        Self {
            signal,
            severity: signal.severity(),
            message,
            evidence,
        }
    }

    /// The value of one evidence key.
    pub fn evidence(&self, key: &str) -> Option<&str> {
        self.evidence
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
