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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::net::IpAddr;

use rapport_proto::referrals::v1::{FraudSeverity, FraudSignal};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

// ---------------------------------------------------------------- normalising contact details

/// Mail domains that deliver `j.doe@` and `jdoe@` to one mailbox, and the domain they are compared
/// under. Only consumer Gmail documents this (support.google.com/mail/answer/7436150); Google
/// Workspace domains, Outlook, Yahoo and the rest treat dots as part of the address.
const DOTS_IGNORED_BY: &[(&str, &str)] =
    &[("gmail.com", "gmail.com"), ("googlemail.com", "gmail.com")];

/// Contact details normalised for comparison (never stored in place of the originals).
///
/// Lowercased and trimmed (the local part too: it may be case-sensitive in theory, but no
/// provider a fraudster can sign up at treats it so); a `+tag` is dropped for every provider;
/// dots are dropped where the provider ignores them (Gmail), and googlemail.com becomes
/// gmail.com. `None` if the text is not `local@domain.tld`.
pub fn normalise_email(email: &str) -> Option<String> {
    let email: String = email.trim().to_lowercase().nfc().collect();
    let (local, domain) = email.split_once('@')?;
    // A fully qualified domain may end with the root's dot; mail goes to the same place.
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if !is_domain(domain) {
        return None;
    }
    let local = match local.split_once('+') {
        // "+tag@…" with nothing before the tag is kept whole: dropping it would leave no mailbox.
        Some((mailbox, _tag)) if !mailbox.is_empty() => mailbox,
        _ => local,
    };
    let (local, domain) = match DOTS_IGNORED_BY.iter().find(|(known, _)| *known == domain) {
        Some((_, canonical)) => (local.replace('.', ""), *canonical),
        None => (local.to_owned(), domain),
    };
    let plausible_local = (1..=64).contains(&local.chars().count())
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible_local.then(|| format!("{local}@{domain}"))
}

fn is_domain(domain: &str) -> bool {
    (1..=253).contains(&domain.chars().count())
        && domain.contains('.')
        && domain.split('.').all(is_domain_label)
}

/// A DNS label: letters (any script, for IDN), digits and inner hyphens, at most 63 long.
fn is_domain_label(label: &str) -> bool {
    let (Some(first), Some(last)) = (label.chars().next(), label.chars().next_back()) else {
        return false;
    };
    label.chars().count() <= 63
        && first != '-'
        && last != '-'
        && !is_combining_mark(first)
        && label
            .chars()
            .all(|c| c == '-' || c.is_alphanumeric() || is_combining_mark(c))
}

/// Digits in an E.164 number, country code included. The shortest numbering plans in use
/// (Niue +683, Saint Helena +290) have 4-digit subscriber numbers, so 7; ITU-T E.164 caps at 15.
const E164_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// A phone number in E.164 form, `+` and digits, for comparison.
///
/// Spaces, dashes, dots, slashes and parentheses used for grouping are removed, and a "(0)" is
/// removed whole: in "+44 (0)20 7946 0018" it marks the trunk prefix dialled only at home.
/// `None` without the leading `+` (a national number cannot be compared without knowing its
/// country), with letters or other characters, or with a digit count E.164 does not allow.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let grouped = phone.trim().strip_prefix('+')?.replace("(0)", "");
    let mut number = String::with_capacity(16);
    number.push('+');
    for c in grouped.chars() {
        match c {
            '0'..='9' => number.push(c),
            '-' | '.' | '/' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    let digits = &number[1..];
    (E164_DIGITS.contains(&digits.len()) && !digits.starts_with('0')).then_some(number)
}

/// Separates the street, postal code and country in a normalised address. Punctuation never
/// survives in the street part or the codes, so the key splits back unambiguously.
pub const ADDRESS_KEY_SEPARATOR: char = '|';

/// Street words written short, spelled out so "12 Main St." and "12 main street" compare equal.
/// "St" for "Saint" becomes "street" too; both sides of a comparison get the same treatment,
/// so the same address still matches itself.
const COMMON_ABBREVIATIONS: &[(&str, &str)] = &[
    ("apt", "apartment"),
    ("av", "avenue"),
    ("ave", "avenue"),
    ("bldg", "building"),
    ("blvd", "boulevard"),
    ("ct", "court"),
    ("dr", "drive"),
    ("fl", "floor"),
    ("hwy", "highway"),
    ("ln", "lane"),
    ("pl", "place"),
    ("rd", "road"),
    ("sq", "square"),
    ("st", "street"),
    ("ste", "suite"),
];

/// Romanian street words (after diacritics are removed: "șos." is "sos"). An empty expansion
/// drops the word: "Str. Lalelelor nr. 5" and "Strada Lalelelor 5" are one address.
const ROMANIAN_ABBREVIATIONS: &[(&str, &str)] = &[
    ("ap", "apartament"),
    ("apt", "apartament"),
    ("b-dul", "bulevardul"),
    ("bd", "bulevardul"),
    ("bdul", "bulevardul"),
    ("bl", "bloc"),
    ("blvd", "bulevardul"),
    ("et", "etaj"),
    ("nr", ""),
    ("numar", ""),
    ("numarul", ""),
    ("sc", "scara"),
    ("sect", "sector"),
    ("sos", "soseaua"),
    ("str", "strada"),
];

/// German-speaking countries write "Straße" as "Str." on its own and as "…str." at a name's end.
const GERMAN_ABBREVIATIONS: &[(&str, &str)] = &[("str", "strasse")];
const GERMAN_SPEAKING: &[&str] = &["AT", "CH", "DE", "LI"];

fn country_abbreviations(country: &str) -> &'static [(&'static str, &'static str)] {
    match country {
        "RO" | "MD" => ROMANIAN_ABBREVIATIONS,
        c if GERMAN_SPEAKING.contains(&c) => GERMAN_ABBREVIATIONS,
        _ => &[],
    }
}

/// A postal address normalised for comparison: `street|POSTALCODE|COUNTRY`.
///
/// The street part joins the lines, folded to lowercase without diacritics (ș → s, ß → ss),
/// punctuation removed, whitespace collapsed and common abbreviations spelled out (st → street,
/// rd → road, ave → avenue, apt → apartment; in Romania str → strada, nr dropped; in German-speaking
/// countries str → strasse). The postal code keeps only its letters and digits, uppercased; the
/// country is uppercased. `None` when no street words remain. Locality is left out on purpose:
/// the postal code carries it, and town names are spelled too many ways.
pub fn normalise_address(
    lines: &[String],
    postal_code: &str,
    country_code: &str,
) -> Option<String> {
    let country: String = country_code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let postal: String = fold(postal_code)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let local_words = country_abbreviations(&country);
    let german = GERMAN_SPEAKING.contains(&country.as_str());

    let mut words: Vec<String> = Vec::new();
    let mut push = |word: &str| {
        let expansion = lookup(local_words, word).or_else(|| lookup(COMMON_ABBREVIATIONS, word));
        match expansion {
            Some("") => {}
            Some(expanded) => words.push(expanded.to_owned()),
            None => match word.strip_suffix("str") {
                // "Hauptstr." is "Hauptstraße".
                Some(name) if german && !name.is_empty() => words.push(format!("{name}strasse")),
                _ => words.push(word.to_owned()),
            },
        }
    };
    for line in lines {
        let folded = fold(line);
        for token in folded.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            let token = token.trim_matches(|c: char| !c.is_alphanumeric());
            if token.is_empty() {
                continue;
            }
            // Abbreviations with inner punctuation ("b-dul") are looked up before splitting.
            if token.contains(|c: char| !c.is_alphanumeric())
                && lookup(local_words, token).is_some()
            {
                push(token);
                continue;
            }
            token
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .for_each(&mut push);
        }
    }
    if words.is_empty() {
        return None;
    }
    let sep = ADDRESS_KEY_SEPARATOR;
    Some(format!("{}{sep}{postal}{sep}{country}", words.join(" ")))
}

fn lookup(table: &[(&str, &'static str)], word: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(short, _)| *short == word)
        .map(|(_, long)| *long)
}

/// Lowercase, diacritics removed, compatibility forms unfolded (ﬁ → fi, fullwidth → ASCII),
/// Latin letters without a decomposition spelled out, apostrophes removed so "O'Connell" and
/// "OConnell" fold alike. Marks are removed in every script: this is a comparison key, and a
/// false merge needs the same street, number and postal code as well.
fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    // Lowercasing can produce a letter with a mark (İ → i̇), so decompose again after it.
    for c in text.nfkd().flat_map(char::to_lowercase).nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ') {
            continue;
        }
        match c {
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'þ' => folded.push_str("th"),
            'ø' => folded.push('o'),
            'ł' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'ħ' => folded.push('h'),
            'ı' => folded.push('i'),
            c => folded.push(c),
        }
    }
    folded
}

// ---------------------------------------------------------------- findings

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

    /// Stable machine code: the proto enum's name, e.g. `FRAUD_SIGNAL_SHARED_IP`.
    pub fn code(self) -> &'static str {
        FraudSignal::from(self).as_str_name()
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

/// A proto value with no domain meaning; the caller prefixes the field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FraudEnumError {
    #[error("is unspecified (expected a fraud signal, e.g. FRAUD_SIGNAL_SELF_REFERRAL_EMAIL)")]
    UnspecifiedSignal,
    #[error("is unspecified (expected FRAUD_SEVERITY_WEAK or FRAUD_SEVERITY_STRONG)")]
    UnspecifiedSeverity,
}

impl From<Signal> for FraudSignal {
    fn from(signal: Signal) -> Self {
        match signal {
            Signal::SelfReferralEmail => Self::SelfReferralEmail,
            Signal::SelfReferralPhone => Self::SelfReferralPhone,
            Signal::SelfReferralAddress => Self::SelfReferralAddress,
            Signal::SelfReferralDevice => Self::SelfReferralDevice,
            Signal::SharedIp => Self::SharedIp,
            Signal::Velocity => Self::Velocity,
            Signal::Cycle => Self::Cycle,
            Signal::DenseRing => Self::DenseRing,
        }
    }
}

impl TryFrom<FraudSignal> for Signal {
    type Error = FraudEnumError;

    fn try_from(signal: FraudSignal) -> Result<Self, Self::Error> {
        Ok(match signal {
            FraudSignal::Unspecified => return Err(FraudEnumError::UnspecifiedSignal),
            FraudSignal::SelfReferralEmail => Self::SelfReferralEmail,
            FraudSignal::SelfReferralPhone => Self::SelfReferralPhone,
            FraudSignal::SelfReferralAddress => Self::SelfReferralAddress,
            FraudSignal::SelfReferralDevice => Self::SelfReferralDevice,
            FraudSignal::SharedIp => Self::SharedIp,
            FraudSignal::Velocity => Self::Velocity,
            FraudSignal::Cycle => Self::Cycle,
            FraudSignal::DenseRing => Self::DenseRing,
        })
    }
}

impl From<Severity> for FraudSeverity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Weak => Self::Weak,
            Severity::Strong => Self::Strong,
        }
    }
}

impl TryFrom<FraudSeverity> for Severity {
    type Error = FraudEnumError;

    fn try_from(severity: FraudSeverity) -> Result<Self, Self::Error> {
        match severity {
            FraudSeverity::Unspecified => Err(FraudEnumError::UnspecifiedSeverity),
            FraudSeverity::Weak => Ok(Self::Weak),
            FraudSeverity::Strong => Ok(Self::Strong),
        }
    }
}

// ---------------------------------------------------------------- self-referral

/// Matching pairs listed in a finding's evidence; the count of all of them is always given.
const LISTED_MATCHES: usize = 10;

/// One kind of contact detail compared between referrer and referee.
struct Comparison {
    signal: Signal,
    /// The field of [`Identity`] compared, named in the evidence.
    field: &'static str,
    compared_as: &'static str,
    message: &'static str,
    key: fn(&str) -> Option<String>,
    /// A non-identifying hint from the comparison key, e.g. the mail domain.
    hint: fn(&str) -> Option<(&'static str, String)>,
}

const EMAIL: Comparison = Comparison {
    signal: Signal::SelfReferralEmail,
    field: "emails",
    compared_as: "email lowercased, +tag removed, dots removed at gmail.com and googlemail.com",
    message: "The referee uses an email address of the referrer's own (compared ignoring case, +tags and the dots Gmail ignores).",
    key: normalise_email,
    hint: |key| Some(("domain", key.rsplit_once('@')?.1.to_owned())),
};

const PHONE: Comparison = Comparison {
    signal: Signal::SelfReferralPhone,
    field: "phones",
    compared_as: "phone in E.164 form",
    message: "The referee uses a phone number of the referrer's own (compared in E.164 form).",
    key: normalise_phone,
    hint: |key| {
        Some((
            "last_digits",
            key.get(key.len().saturating_sub(2)..)?.to_owned(),
        ))
    },
};

const ADDRESS: Comparison = Comparison {
    signal: Signal::SelfReferralAddress,
    field: "addresses",
    compared_as: "postal address normalised (case, diacritics, punctuation, abbreviations, postal code spacing)",
    message: "The referee gives a postal address of the referrer's own (compared after normalising spelling and abbreviations); a reviewer decides whether it is one household or one person.",
    key: |address| non_empty(address.trim()),
    hint: |key| {
        Some((
            "country",
            key.rsplit_once(ADDRESS_KEY_SEPARATOR)?.1.to_owned(),
        ))
    },
};

const DEVICE: Comparison = Comparison {
    signal: Signal::SelfReferralDevice,
    field: "device_hashes",
    compared_as: "device fingerprint hash, ignoring case",
    message: "The referee signed up on a device the referrer has used.",
    key: |hash| non_empty(&hash.trim().to_ascii_lowercase()),
    hint: |_| None,
};

const SHARED_IP: Comparison = Comparison {
    signal: Signal::SharedIp,
    field: "ip_addresses",
    compared_as: "public IP address (IPv6: its /64 network); private and loopback addresses ignored",
    message: "The referee connected from an IP address the referrer has used. Offices, dormitories and mobile carriers share addresses, so this is recorded for reviewers but holds nothing by itself.",
    key: ip_key,
    hint: |key| {
        Some((
            "network",
            if key.starts_with("v6:") {
                "IPv6 /64"
            } else {
                "IPv4 address"
            }
            .to_owned(),
        ))
    },
};

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// The comparable part of an IP address. IPv6 hosts rotate addresses within their /64 (RFC 8981
/// privacy addresses), so a /64 is the IPv6 counterpart of one IPv4 address. Private, loopback,
/// link-local and unspecified addresses say nothing about who is behind them (a proxy that does
/// not forward the client's address would make everyone "share" it), so they are not compared.
fn ip_key(text: &str) -> Option<String> {
    let ip: IpAddr = text.trim().parse().ok()?;
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let local = v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT (RFC 6598): a whole carrier's customers.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64);
            (!local).then(|| format!("v4:{v4}"))
        }
        IpAddr::V6(v6) => {
            let local = v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local();
            let s = v6.segments();
            (!local).then(|| format!("v6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

/// Self-referral: the referee shares a normalised email, phone, postal address or device with the
/// referrer (Strong each), or an IP address (Weak: recorded, never holds a reward alone). At
/// most one finding per signal; its evidence lists which entries matched.
pub fn self_referral(referrer: &Identity, referee: &Identity) -> Vec<Finding> {
    [
        (&EMAIL, &referrer.emails, &referee.emails),
        (&PHONE, &referrer.phones, &referee.phones),
        (&ADDRESS, &referrer.addresses, &referee.addresses),
        (&DEVICE, &referrer.device_hashes, &referee.device_hashes),
        (&SHARED_IP, &referrer.ip_addresses, &referee.ip_addresses),
    ]
    .into_iter()
    .filter_map(|(comparison, referrer, referee)| compare(comparison, referrer, referee))
    .collect()
}

fn compare(rule: &Comparison, referrer: &[String], referee: &[String]) -> Option<Finding> {
    let referrer_keys: Vec<(usize, String)> = referrer
        .iter()
        .enumerate()
        .filter_map(|(i, value)| Some((i, (rule.key)(value)?)))
        .collect();
    let mut matches = Vec::new();
    for (j, value) in referee.iter().enumerate() {
        let Some(key) = (rule.key)(value) else {
            continue;
        };
        for (i, referrer_key) in &referrer_keys {
            if *referrer_key == key {
                matches.push((*i, j, key.clone()));
            }
        }
    }
    if matches.is_empty() {
        return None;
    }
    let mut evidence = vec![
        ("compared_as".to_owned(), rule.compared_as.to_owned()),
        ("matches".to_owned(), matches.len().to_string()),
    ];
    let field = rule.field;
    for (n, (i, j, key)) in matches.iter().take(LISTED_MATCHES).enumerate() {
        let label = format!("match_{}", n + 1);
        evidence.push((
            label.clone(),
            format!("referrer.{field}[{i}] = referee.{field}[{j}]"),
        ));
        if let Some((name, hint)) = (rule.hint)(key) {
            evidence.push((format!("{label}_{name}"), hint));
        }
    }
    Some(Finding::new(rule.signal, rule.message.to_owned(), evidence))
}

// ---------------------------------------------------------------- velocity

/// The velocity window: a rolling 24 hours, so a burst straddling midnight is still one burst and
/// no time zone is needed.
pub const VELOCITY_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// Default limit on referrals per referrer per day (configurable per jurisdiction).
pub const DEFAULT_MAX_REFERRALS_PER_DAY: u32 = 5;

/// Velocity: more than `max_per_day` of this referrer's referrals in the 24 hours up to `now`
/// (`now − 24h < t ≤ now`, unix seconds; include the referral being made) → Strong. Times after
/// `now` are not counted, so evaluating "as of" a past moment sees only what had happened.
pub fn velocity(referral_times: &[i64], now: i64, max_per_day: u32) -> Option<Finding> {
    let since = now.saturating_sub(VELOCITY_WINDOW_SECONDS);
    let in_window: Vec<i64> = referral_times
        .iter()
        .copied()
        .filter(|&t| t > since && t <= now)
        .collect();
    let count = in_window.len();
    if count as u64 <= u64::from(max_per_day) {
        return None;
    }
    let first = in_window.iter().min().copied().unwrap_or(now);
    let last = in_window.iter().max().copied().unwrap_or(now);
    Some(Finding::new(
        Signal::Velocity,
        format!(
            "{count} referrals by this referrer in the last 24 hours; the limit is {max_per_day} a day."
        ),
        vec![
            ("referrals_in_window".to_owned(), count.to_string()),
            ("max_per_day".to_owned(), max_per_day.to_string()),
            (
                "window_hours".to_owned(),
                (VELOCITY_WINDOW_SECONDS / 3600).to_string(),
            ),
            ("first_in_window_unix".to_owned(), first.to_string()),
            ("last_in_window_unix".to_owned(), last.to_string()),
        ],
    ))
}

// ---------------------------------------------------------------- the referral graph

/// When a cluster counts as a dense ring (defaults; configurable per jurisdiction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseRingRule {
    /// Fewer accounts than this is a family or a group of friends, not a ring.
    pub min_members: usize,
    /// Directed links present among the members, as a percentage of the n·(n − 1) possible.
    /// Integer so the threshold is exact (0.3 · 380 is not 114 in floating point).
    pub min_density_percent: u32,
    /// A ring "hangs on few links to the trusted part": at most this many edges from trusted
    /// customers into the cluster.
    pub max_trusted_links: usize,
}

impl Default for DenseRingRule {
    fn default() -> Self {
        Self {
            min_members: 5,
            min_density_percent: 30,
            max_trusted_links: 2,
        }
    }
}

impl DenseRingRule {
    fn is_dense(&self, members: usize, links: usize) -> bool {
        let possible = (members as u128) * (members.saturating_sub(1) as u128);
        members >= self.min_members
            && (links as u128) * 100 >= u128::from(self.min_density_percent) * possible
    }
}

/// The local search for a dense cluster looks at untrusted accounts within two links of the
/// node, nearest first, and at most this many (a referrer of thousands is a hub, not a ring).
const MAX_NEIGHBOURHOOD: usize = 5_000;
/// Cycle nodes and ring members listed in evidence.
const LISTED_NODES: usize = 50;

/// Cycles and dense rings around `node` in the referral graph (`edges`: referrer → referee, dense
/// ids; `trusted`: the pre-trusted customers), with the default [`DenseRingRule`].
///
/// Cycle: `node` lies on a directed cycle (A refers B refers … refers A) → Strong.
/// DenseRing: `node` belongs to a strongly connected component, or a dense cluster around it, of
/// at least 5 untrusted accounts with at least 30% of the possible links among them, into which
/// trusted customers have at most 2 links → Strong.
///
/// Builds the graph each call, O(V + E); to ask about many nodes build a [`ReferralGraph`] once.
pub fn graph_findings(edges: &[(u32, u32)], trusted: &[u32], node: u32) -> Vec<Finding> {
    ReferralGraph::new(edges, trusted).findings(node, &DenseRingRule::default())
}

/// Adjacency in compressed sparse rows: the neighbours of `v` are
/// `targets[offsets[v]..offsets[v + 1]]`, sorted.
#[derive(Debug, Clone)]
struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    /// From pairs sorted by source (then target).
    fn from_sorted(nodes: usize, pairs: impl Iterator<Item = (u32, u32)>) -> Self {
        let mut offsets = vec![0; nodes + 1];
        let mut targets = Vec::new();
        for (from, to) in pairs {
            offsets[from as usize + 1] += 1;
            targets.push(to);
        }
        for v in 0..nodes {
            offsets[v + 1] += offsets[v];
        }
        Self { offsets, targets }
    }

    fn of(&self, v: u32) -> &[u32] {
        let v = v as usize;
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&start), Some(&end)) => &self.targets[start..end],
            _ => &[],
        }
    }
}

/// The referral graph, built once and asked about many nodes. Duplicate edges count once;
/// a self-loop (an account referring itself) is a cycle of one.
#[derive(Debug, Clone)]
pub struct ReferralGraph {
    successors: Adjacency,
    predecessors: Adjacency,
    trusted: Vec<bool>,
    self_loop: Vec<bool>,
    /// Strongly connected component of each node.
    component: Vec<u32>,
    /// Nodes grouped by component.
    members: Adjacency,
    /// Per component: untrusted members, links among them, and links from trusted nodes into them.
    untrusted_members: Vec<usize>,
    internal_links: Vec<usize>,
    trusted_links: Vec<usize>,
}

/// A cluster that may be a ring, as evidence describes it.
struct Cluster {
    kind: &'static str,
    members: Vec<u32>,
    links: usize,
    trusted_links: usize,
}

impl ReferralGraph {
    pub fn new(edges: &[(u32, u32)], trusted: &[u32]) -> Self {
        let nodes = edges
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .chain(trusted.iter().copied())
            .max()
            .map_or(0, |max| max as usize + 1);
        let mut self_loop = vec![false; nodes];
        let mut forward: Vec<(u32, u32)> = Vec::with_capacity(edges.len());
        for &(from, to) in edges {
            if from == to {
                self_loop[from as usize] = true;
            } else {
                forward.push((from, to));
            }
        }
        forward.sort_unstable();
        forward.dedup();
        let successors = Adjacency::from_sorted(nodes, forward.iter().copied());
        let mut backward: Vec<(u32, u32)> = forward.iter().map(|&(a, b)| (b, a)).collect();
        drop(forward);
        backward.sort_unstable();
        let predecessors = Adjacency::from_sorted(nodes, backward.into_iter());

        let mut is_trusted = vec![false; nodes];
        for &t in trusted {
            is_trusted[t as usize] = true;
        }
        let component = strongly_connected_components(&successors);
        let components = component.iter().max().map_or(0, |&c| c as usize + 1);
        let mut by_component: Vec<(u32, u32)> = component
            .iter()
            .enumerate()
            .map(|(v, &c)| (c, v as u32))
            .collect();
        by_component.sort_unstable();
        let members = Adjacency::from_sorted(components, by_component.into_iter());

        let mut untrusted_members = vec![0; components];
        let mut internal_links = vec![0; components];
        let mut trusted_links = vec![0; components];
        for v in 0..nodes {
            if !is_trusted[v] {
                untrusted_members[component[v] as usize] += 1;
            }
        }
        for from in 0..nodes as u32 {
            for &to in successors.of(from) {
                let (f, t) = (from as usize, to as usize);
                if is_trusted[t] {
                    continue;
                }
                if is_trusted[f] {
                    trusted_links[component[t] as usize] += 1;
                } else if component[f] == component[t] {
                    internal_links[component[t] as usize] += 1;
                }
            }
        }
        Self {
            successors,
            predecessors,
            trusted: is_trusted,
            self_loop,
            component,
            members,
            untrusted_members,
            internal_links,
            trusted_links,
        }
    }

    fn is_trusted(&self, v: u32) -> bool {
        self.trusted.get(v as usize).copied().unwrap_or(false)
    }

    /// Cycle and DenseRing findings for `node`; none for an id the graph has never seen.
    pub fn findings(&self, node: u32, rule: &DenseRingRule) -> Vec<Finding> {
        if node as usize >= self.component.len() {
            return Vec::new();
        }
        let mut findings = Vec::new();
        findings.extend(self.cycle_through(node).map(|cycle| cycle_finding(&cycle)));
        findings.extend(
            self.ring_around(node, rule)
                .map(|ring| ring_finding(&ring, rule)),
        );
        findings
    }

    /// A short directed cycle through `node`, as the nodes along it (first = last = node).
    ///
    /// Searches forward along the referrals and backward against them at once, level by level,
    /// always widening the smaller side, within the node's component (which holds every cycle
    /// through it). In a large component each side then explores roughly the square root of what
    /// a one-sided search would.
    fn cycle_through(&self, node: u32) -> Option<Vec<u32>> {
        if self.self_loop[node as usize] {
            return Some(vec![node, node]);
        }
        if self.members.of(self.component[node as usize]).len() < 2 {
            return None;
        }
        // Each side's parent pointers lead back to `node`, the root of both.
        let mut forward: HashMap<u32, u32> = HashMap::new();
        let mut backward: HashMap<u32, u32> = HashMap::new();
        let (mut forward_frontier, mut backward_frontier) = (vec![node], vec![node]);
        while !forward_frontier.is_empty() && !backward_frontier.is_empty() {
            if forward_frontier.len() <= backward_frontier.len() {
                let level = &self.successors;
                match self.widen(node, &forward_frontier, level, &mut forward, &backward) {
                    Ok(next) => forward_frontier = next,
                    // v → node closes the cycle.
                    Err(Meeting::Closes(v)) => {
                        let mut cycle = path_to_root(&forward, v);
                        cycle.reverse();
                        cycle.push(node);
                        return Some(cycle);
                    }
                    Err(Meeting::At(w)) => return Some(join_at(&forward, &backward, w)),
                }
            } else {
                let level = &self.predecessors;
                match self.widen(node, &backward_frontier, level, &mut backward, &forward) {
                    Ok(next) => backward_frontier = next,
                    // node → v closes the cycle.
                    Err(Meeting::Closes(v)) => {
                        let mut cycle = vec![node];
                        cycle.extend(path_to_root(&backward, v));
                        return Some(cycle);
                    }
                    Err(Meeting::At(w)) => return Some(join_at(&forward, &backward, w)),
                }
            }
        }
        None
    }

    /// One level of one side of the cycle search: the next frontier, or where the sides met.
    fn widen(
        &self,
        node: u32,
        frontier: &[u32],
        adjacency: &Adjacency,
        seen: &mut HashMap<u32, u32>,
        other_side: &HashMap<u32, u32>,
    ) -> Result<Vec<u32>, Meeting> {
        let component = self.component[node as usize];
        let mut next = Vec::new();
        for &v in frontier {
            for &w in adjacency.of(v) {
                if w == node {
                    return Err(Meeting::Closes(v));
                }
                if self.component[w as usize] != component || seen.contains_key(&w) {
                    continue;
                }
                seen.insert(w, v);
                if other_side.contains_key(&w) {
                    return Err(Meeting::At(w));
                }
                next.push(w);
            }
        }
        Ok(next)
    }

    /// The ring `node` belongs to, if any: first its strongly connected component, then the
    /// densest cluster the local search finds around it.
    fn ring_around(&self, node: u32, rule: &DenseRingRule) -> Option<Cluster> {
        if self.is_trusted(node) {
            return None;
        }
        let c = self.component[node as usize] as usize;
        if rule.is_dense(self.untrusted_members[c], self.internal_links[c])
            && self.trusted_links[c] <= rule.max_trusted_links
        {
            let members: Vec<u32> = self
                .members
                .of(c as u32)
                .iter()
                .copied()
                .filter(|&v| !self.is_trusted(v))
                .collect();
            return Some(Cluster {
                kind: "strongly connected component",
                members,
                links: self.internal_links[c],
                trusted_links: self.trusted_links[c],
            });
        }
        let cluster = self.dense_cluster_around(node, rule)?;
        (cluster.trusted_links <= rule.max_trusted_links).then_some(cluster)
    }

    /// The largest dense cluster holding `node` that greedy peeling finds in its untrusted
    /// neighbourhood (within two links). Peeling repeatedly removes the member with the fewest
    /// links inside (Charikar's densest-subgraph heuristic), never `node`; the first set that is
    /// dense and in which `node` links to at least the same share of the others is the cluster.
    /// Taking the first (largest) such set matters: an honest, well-connected group must not be
    /// peeled down to a corner that happens to have few trusted links.
    fn dense_cluster_around(&self, node: u32, rule: &DenseRingRule) -> Option<Cluster> {
        let region = self.untrusted_neighbourhood(node);
        if region.len() < rule.min_members {
            return None;
        }
        let local: HashMap<u32, usize> = region.iter().enumerate().map(|(i, &v)| (v, i)).collect();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); region.len()];
        let mut into: Vec<Vec<usize>> = vec![Vec::new(); region.len()];
        let mut links = 0usize;
        for (i, &v) in region.iter().enumerate() {
            for w in self.successors.of(v) {
                if let Some(&j) = local.get(w) {
                    out[i].push(j);
                    into[j].push(i);
                    links += 1;
                }
            }
        }
        let mut degree: Vec<usize> = (0..region.len())
            .map(|i| out[i].len() + into[i].len())
            .collect();
        // The node is local index 0 (the search starts there).
        let node_neighbours: HashSet<usize> = out[0].iter().chain(&into[0]).copied().collect();
        let mut node_links = node_neighbours.len();
        let mut removed = vec![false; region.len()];
        let mut size = region.len();
        let mut heap: BinaryHeap<Reverse<(usize, usize)>> =
            (1..region.len()).map(|i| Reverse((degree[i], i))).collect();

        loop {
            let others = size - 1;
            if rule.is_dense(size, links)
                && (node_links as u128) * 100
                    >= u128::from(rule.min_density_percent) * others as u128
            {
                let members: Vec<u32> = (0..region.len())
                    .filter(|&i| !removed[i])
                    .map(|i| region[i])
                    .collect();
                let trusted_links = members
                    .iter()
                    .map(|&v| {
                        self.predecessors
                            .of(v)
                            .iter()
                            .filter(|&&p| self.is_trusted(p))
                            .count()
                    })
                    .sum();
                return Some(Cluster {
                    kind: "dense cluster around the account",
                    members,
                    links,
                    trusted_links,
                });
            }
            if size <= rule.min_members {
                return None;
            }
            let Reverse((d, i)) = heap.pop()?;
            if removed[i] || d != degree[i] {
                continue; // a stale entry
            }
            removed[i] = true;
            size -= 1;
            for &j in out[i].iter().chain(&into[i]) {
                if !removed[j] {
                    links -= 1;
                    if j != 0 {
                        degree[j] -= 1;
                        heap.push(Reverse((degree[j], j)));
                    }
                }
            }
            if node_neighbours.contains(&i) {
                node_links -= 1;
            }
        }
    }

    /// `node` and the untrusted accounts within two links of it (either direction), nearest
    /// first, at most [`MAX_NEIGHBOURHOOD`]. Paths do not pass through trusted customers: they
    /// are the anchor a ring hangs on, not part of it.
    fn untrusted_neighbourhood(&self, node: u32) -> Vec<u32> {
        let mut seen: HashSet<u32> = HashSet::from([node]);
        let mut region = vec![node];
        let mut frontier = vec![node];
        for _hop in 0..2 {
            let mut next = Vec::new();
            for &v in &frontier {
                for &w in self.successors.of(v).iter().chain(self.predecessors.of(v)) {
                    if region.len() >= MAX_NEIGHBOURHOOD {
                        return region;
                    }
                    if !self.is_trusted(w) && seen.insert(w) {
                        region.push(w);
                        next.push(w);
                    }
                }
            }
            frontier = next;
        }
        region
    }
}

/// Tarjan's strongly connected components, iterative (an explicit stack of frames instead of
/// recursion, so a referral chain of a million accounts cannot overflow the thread's stack).
/// Returns the component of each node.
fn strongly_connected_components(successors: &Adjacency) -> Vec<u32> {
    const UNVISITED: u32 = u32::MAX;
    let nodes = successors.offsets.len().saturating_sub(1);
    let mut index = vec![UNVISITED; nodes];
    let mut lowlink = vec![0u32; nodes];
    let mut on_stack = vec![false; nodes];
    let mut stack: Vec<u32> = Vec::new();
    let mut component = vec![UNVISITED; nodes];
    let mut next_index = 0u32;
    let mut next_component = 0u32;
    // Frames: the node, and the position of the next successor to look at.
    let mut frames: Vec<(u32, usize)> = Vec::new();

    for root in 0..nodes as u32 {
        if index[root as usize] != UNVISITED {
            continue;
        }
        index[root as usize] = next_index;
        lowlink[root as usize] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        frames.push((root, 0));

        while let Some(frame) = frames.last_mut() {
            let v = frame.0;
            if let Some(&w) = successors.of(v).get(frame.1) {
                frame.1 += 1;
                let (v, w) = (v as usize, w as usize);
                if index[w] == UNVISITED {
                    index[w] = next_index;
                    lowlink[w] = next_index;
                    next_index += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    frames.push((w as u32, 0));
                } else if on_stack[w] {
                    lowlink[v] = lowlink[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            let v = v as usize;
            if let Some(&(parent, _)) = frames.last() {
                let parent = parent as usize;
                lowlink[parent] = lowlink[parent].min(lowlink[v]);
            }
            if lowlink[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = next_component;
                    if w as usize == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// Where the two sides of the cycle search met.
enum Meeting {
    /// The side reached `node` again from this account.
    Closes(u32),
    /// Both sides reached this account.
    At(u32),
}

/// The account, its parent, … up to the search's root.
fn path_to_root(parents: &HashMap<u32, u32>, from: u32) -> Vec<u32> {
    let mut path = vec![from];
    let mut at = from;
    while let Some(&parent) = parents.get(&at) {
        path.push(parent);
        at = parent;
    }
    path
}

/// The cycle root → … → `meeting` → … → root.
fn join_at(forward: &HashMap<u32, u32>, backward: &HashMap<u32, u32>, meeting: u32) -> Vec<u32> {
    let mut cycle = path_to_root(forward, meeting);
    cycle.reverse();
    cycle.extend(path_to_root(backward, meeting).into_iter().skip(1));
    cycle
}

fn list_nodes(nodes: &[u32], separator: &str) -> String {
    let mut listed: Vec<String> = nodes
        .iter()
        .take(LISTED_NODES)
        .map(u32::to_string)
        .collect();
    if nodes.len() > LISTED_NODES {
        listed.push("…".to_owned());
    }
    listed.join(separator)
}

fn cycle_finding(cycle: &[u32]) -> Finding {
    let length = cycle.len() - 1;
    let message = if length == 1 {
        "The account referred itself.".to_owned()
    } else {
        format!(
            "The account lies on a cycle of {length} referrals: accounts that referred each other round to where they started."
        )
    };
    Finding::new(
        Signal::Cycle,
        message,
        vec![
            ("cycle_length".to_owned(), length.to_string()),
            ("cycle".to_owned(), list_nodes(cycle, " → ")),
        ],
    )
}

fn ring_finding(ring: &Cluster, rule: &DenseRingRule) -> Finding {
    let n = ring.members.len();
    let possible = n * n.saturating_sub(1);
    let density_percent = (ring.links * 100).checked_div(possible).unwrap_or(0);
    Finding::new(
        Signal::DenseRing,
        format!(
            "The account belongs to a dense ring of {n} accounts ({density_percent}% of the possible links among them) that hangs on {} link(s) from trusted customers (at most {} for a ring).",
            ring.trusted_links, rule.max_trusted_links
        ),
        vec![
            ("cluster".to_owned(), ring.kind.to_owned()),
            ("members".to_owned(), n.to_string()),
            ("internal_links".to_owned(), ring.links.to_string()),
            ("density_percent".to_owned(), density_percent.to_string()),
            (
                "min_density_percent".to_owned(),
                rule.min_density_percent.to_string(),
            ),
            (
                "links_from_trusted".to_owned(),
                ring.trusted_links.to_string(),
            ),
            (
                "max_links_from_trusted".to_owned(),
                rule.max_trusted_links.to_string(),
            ),
            ("member_ids".to_owned(), list_nodes(&ring.members, ", ")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn address(lines: &[&str], postal: &str, country: &str) -> String {
        normalise_address(&strings(lines), postal, country).expect("an address")
    }

    fn signals(findings: &[Finding]) -> Vec<(Signal, Severity)> {
        findings.iter().map(|f| (f.signal, f.severity)).collect()
    }

    // ------------------------------------------------------------ email

    #[test]
    fn gmail_dot_and_plus_variants_are_one_mailbox() {
        let canonical = Some("johndoe@gmail.com".to_owned());
        for variant in [
            "johndoe@gmail.com",
            "John.Doe@gmail.com",
            "j.o.h.n.d.o.e@GMAIL.COM",
            "john.doe+referral@gmail.com",
            "  JohnDoe+a+b@googlemail.com ",
            "john.doe@gmail.com.",
        ] {
            assert_eq!(normalise_email(variant), canonical, "{variant}");
        }
    }

    #[test]
    fn other_providers_keep_dots_but_lose_the_tag() {
        assert_eq!(
            normalise_email("John.Doe+promo@Outlook.com").as_deref(),
            Some("john.doe@outlook.com")
        );
        assert_ne!(
            normalise_email("john.doe@outlook.com"),
            normalise_email("johndoe@outlook.com")
        );
        assert_eq!(
            normalise_email("ana.pop+x@example.ro"),
            normalise_email("Ana.Pop@example.ro")
        );
        // A Google Workspace domain is not gmail.com: dots matter there.
        assert_ne!(
            normalise_email("a.b@company.com"),
            normalise_email("ab@company.com")
        );
    }

    #[test]
    fn text_that_is_not_an_email_is_none() {
        for text in [
            "",
            "john",
            "john@",
            "@gmail.com",
            "john@localhost",
            "jo hn@gmail.com",
            "a@b@c.com",
            "...@gmail.com",
            "x@-bad-.com",
        ] {
            assert_eq!(normalise_email(text), None, "{text:?}");
        }
        // Nothing before the tag: kept whole rather than left with no mailbox.
        assert_eq!(
            normalise_email("+tag@example.com").as_deref(),
            Some("+tag@example.com")
        );
    }

    #[test]
    fn same_email_in_another_spelling_is_a_strong_self_referral() {
        let referrer = Identity {
            emails: strings(&["john.doe@gmail.com"]),
            ..Identity::default()
        };
        let referee = Identity {
            emails: strings(&["other@example.com", "JohnDoe+bonus@googlemail.com"]),
            ..Identity::default()
        };
        let findings = self_referral(&referrer, &referee);
        assert_eq!(
            signals(&findings),
            [(Signal::SelfReferralEmail, Severity::Strong)]
        );
        let finding = &findings[0];
        assert_eq!(
            finding.evidence("match_1"),
            Some("referrer.emails[0] = referee.emails[1]")
        );
        assert_eq!(finding.evidence("match_1_domain"), Some("gmail.com"));
        assert!(holds_rewards(&findings));
        for (_, value) in &finding.evidence {
            assert!(
                !value.contains("john") && !value.contains("doe"),
                "raw email leaked: {value}"
            );
        }
    }

    // ------------------------------------------------------------ phone

    #[test]
    fn phone_formats_compare_in_e164() {
        for variant in [
            "+40721234567",
            "+40 721 234 567",
            "+40-721-234-567",
            "+40.721.234.567",
            "+40 (721) 234 567",
            "+40 (0)721 234 567",
            " +40 721/234 567 ",
        ] {
            assert_eq!(
                normalise_phone(variant).as_deref(),
                Some("+40721234567"),
                "{variant}"
            );
        }
        assert_eq!(
            normalise_phone("+44 (0)20 7946 0018").as_deref(),
            Some("+442079460018")
        );
    }

    #[test]
    fn phones_that_do_not_look_like_e164_are_none() {
        for text in [
            "",
            "0721234567",
            "+",
            "+40 721 ABC 567",
            "+0721234567",
            "+123",
            "+1234567890123456",
            "tel:+40721234567",
        ] {
            assert_eq!(normalise_phone(text), None, "{text:?}");
        }
    }

    #[test]
    fn same_phone_is_a_strong_self_referral() {
        let referrer = Identity {
            phones: strings(&["+40 (0)721 234 567"]),
            ..Identity::default()
        };
        let referee = Identity {
            phones: strings(&["+40-721-234-567"]),
            ..Identity::default()
        };
        let findings = self_referral(&referrer, &referee);
        assert_eq!(
            signals(&findings),
            [(Signal::SelfReferralPhone, Severity::Strong)]
        );
        assert_eq!(findings[0].evidence("match_1_last_digits"), Some("67"));
        let other = Identity {
            phones: strings(&["+40721234568"]),
            ..Identity::default()
        };
        assert!(self_referral(&referrer, &other).is_empty());
    }

    // ------------------------------------------------------------ address

    #[test]
    fn address_spellings_compare_equal() {
        assert_eq!(
            address(&["12 Main St."], "SW1A 1AA", "gb"),
            address(&["12  main street"], "sw1a1aa", "GB")
        );
        assert_eq!(
            address(&["12 Main St.", "Apt. 4"], "10001", "US"),
            address(&["12 Main Street, Apartment 4"], "10001", "US")
        );
        assert_eq!(
            address(&["12 Main St."], "SW1A 1AA", "GB"),
            "12 main street|SW1A1AA|GB"
        );
        // Romanian: diacritics, "Str." and "nr.".
        assert_eq!(
            address(
                &["Str. Ștefan cel Mare nr. 5, bl. A2, ap. 14"],
                "700 012",
                "ro"
            ),
            address(
                &["Strada Stefan cel Mare 5", "Bloc A2 Apartament 14"],
                "700012",
                "RO"
            ),
        );
        assert_eq!(
            address(&["B-dul Unirii 3"], "", "RO"),
            address(&["Bulevardul Unirii 3"], "", "RO")
        );
        // German: "Str." alone and at the end of a name.
        assert_eq!(
            address(&["Hauptstr. 7"], "10115", "DE"),
            address(&["Hauptstraße 7"], "10115", "DE")
        );
        assert_eq!(
            address(&["O'Connell St"], "D01", "IE"),
            address(&["OConnell Street"], "D01", "IE")
        );
    }

    #[test]
    fn different_addresses_stay_different() {
        assert_ne!(
            address(&["12 Main St"], "10001", "US"),
            address(&["14 Main St"], "10001", "US")
        );
        assert_ne!(
            address(&["12 Main St"], "10001", "US"),
            address(&["12 Main St"], "10002", "US")
        );
        assert_ne!(
            address(&["12 Main St"], "10001", "US"),
            address(&["12 Main St"], "10001", "CA")
        );
        assert_eq!(
            normalise_address(&strings(&["", " , . "]), "10001", "US"),
            None
        );
        assert_eq!(normalise_address(&[], "10001", "US"), None);
    }

    #[test]
    fn same_address_is_a_strong_self_referral() {
        let home = address(&["12 Main St."], "SW1A 1AA", "GB");
        let referrer = Identity {
            addresses: vec![home],
            ..Identity::default()
        };
        let referee = Identity {
            addresses: vec![address(&["12 main street"], "sw1a 1aa", "GB")],
            ..Identity::default()
        };
        let findings = self_referral(&referrer, &referee);
        assert_eq!(
            signals(&findings),
            [(Signal::SelfReferralAddress, Severity::Strong)]
        );
        assert_eq!(findings[0].evidence("match_1_country"), Some("GB"));
        assert!(
            findings[0]
                .evidence
                .iter()
                .all(|(_, v)| !v.contains("main"))
        );
    }

    #[test]
    fn expansions_are_never_abbreviations_themselves() {
        // Otherwise normalising twice would expand twice.
        for table in [
            COMMON_ABBREVIATIONS,
            ROMANIAN_ABBREVIATIONS,
            GERMAN_ABBREVIATIONS,
        ] {
            for (_, long) in table {
                for word in long.split(' ').filter(|w| !w.is_empty()) {
                    assert!(
                        lookup(table, word).is_none()
                            && lookup(COMMON_ABBREVIATIONS, word).is_none(),
                        "{word}"
                    );
                    assert!(!word.ends_with("str"), "{word}");
                }
            }
        }
    }

    // ------------------------------------------------------------ device and IP

    #[test]
    fn same_device_is_a_strong_self_referral() {
        let referrer = Identity {
            device_hashes: strings(&["9F86D081884C7D65"]),
            ..Identity::default()
        };
        let referee = Identity {
            device_hashes: strings(&["9f86d081884c7d65 "]),
            ..Identity::default()
        };
        let findings = self_referral(&referrer, &referee);
        assert_eq!(
            signals(&findings),
            [(Signal::SelfReferralDevice, Severity::Strong)]
        );
        assert!(holds_rewards(&findings));
        let blank = Identity {
            device_hashes: strings(&[""]),
            ..Identity::default()
        };
        assert!(
            self_referral(&blank, &blank).is_empty(),
            "an empty hash is no device"
        );
    }

    #[test]
    fn a_shared_ip_alone_is_weak_and_holds_nothing() {
        let referrer = Identity {
            emails: strings(&["ana@example.com"]),
            phones: strings(&["+40721234567"]),
            device_hashes: strings(&["aaaa"]),
            ip_addresses: strings(&["203.0.113.7"]),
            ..Identity::default()
        };
        let referee = Identity {
            emails: strings(&["ion@example.com"]),
            phones: strings(&["+40721999999"]),
            device_hashes: strings(&["bbbb"]),
            ip_addresses: strings(&["203.0.113.7"]),
            ..Identity::default()
        };
        let findings = self_referral(&referrer, &referee);
        assert_eq!(signals(&findings), [(Signal::SharedIp, Severity::Weak)]);
        assert!(
            !holds_rewards(&findings),
            "a shared IP must not block a reward"
        );
        assert_eq!(Signal::SharedIp.severity(), Severity::Weak);
    }

    #[test]
    fn ip_addresses_compare_by_what_identifies_a_network() {
        let shares = |a: &str, b: &str| {
            let one = Identity {
                ip_addresses: strings(&[a]),
                ..Identity::default()
            };
            let two = Identity {
                ip_addresses: strings(&[b]),
                ..Identity::default()
            };
            !self_referral(&one, &two).is_empty()
        };
        assert!(
            shares("2001:db8:1:2::10", "2001:db8:1:2:aaaa::1"),
            "same IPv6 /64"
        );
        assert!(!shares("2001:db8:1:2::10", "2001:db8:1:3::10"));
        assert!(
            shares("::ffff:198.51.100.4", "198.51.100.4"),
            "IPv4-mapped IPv6"
        );
        assert!(
            !shares("192.168.1.10", "192.168.1.10"),
            "a private address says nothing"
        );
        assert!(!shares("127.0.0.1", "127.0.0.1"));
        assert!(!shares("100.64.3.4", "100.64.3.4"), "carrier-grade NAT");
        assert!(!shares("not an ip", "not an ip"));
    }

    #[test]
    fn a_strong_match_holds_even_beside_a_shared_ip() {
        let side = Identity {
            device_hashes: strings(&["d1"]),
            ip_addresses: strings(&["203.0.113.7"]),
            ..Identity::default()
        };
        let findings = self_referral(&side, &side);
        assert_eq!(
            signals(&findings),
            [
                (Signal::SelfReferralDevice, Severity::Strong),
                (Signal::SharedIp, Severity::Weak)
            ]
        );
        assert!(holds_rewards(&findings));
    }

    // ------------------------------------------------------------ velocity

    const NOW: i64 = 1_760_000_000;
    const HOUR: i64 = 3600;

    #[test]
    fn velocity_at_the_limit_is_fine_and_one_more_is_flagged() {
        let five: Vec<i64> = (0..5).map(|i| NOW - i * HOUR).collect();
        assert_eq!(
            velocity(&five, NOW, 5),
            None,
            "5 in 24 hours is within a limit of 5"
        );

        let mut six = five.clone();
        six.push(NOW - 23 * HOUR);
        let finding = velocity(&six, NOW, 5).expect("6 in 24 hours");
        assert_eq!(
            (finding.signal, finding.severity),
            (Signal::Velocity, Severity::Strong)
        );
        assert_eq!(finding.evidence("referrals_in_window"), Some("6"));
        assert_eq!(finding.evidence("max_per_day"), Some("5"));
    }

    #[test]
    fn velocity_counts_a_rolling_24_hours_up_to_now() {
        let mut times: Vec<i64> = (0..5).map(|i| NOW - i * HOUR).collect();
        times.push(NOW - 24 * HOUR); // exactly a day ago: outside
        times.push(NOW - 30 * HOUR);
        times.push(NOW + 60); // after "now": not yet happened
        assert_eq!(velocity(&times, NOW, 5), None);
        times.push(NOW - 24 * HOUR + 1); // just inside
        assert!(velocity(&times, NOW, 5).is_some());
        assert!(
            velocity(&[i64::MIN + 1, i64::MIN + 2], i64::MIN + 2, 1).is_some(),
            "no overflow at the edges"
        );
        assert!(velocity(&[i64::MAX], i64::MAX, 0).is_some());
    }

    // ------------------------------------------------------------ graph

    fn has(findings: &[Finding], signal: Signal) -> bool {
        findings
            .iter()
            .any(|f| f.signal == signal && f.severity == Severity::Strong)
    }

    #[test]
    fn a_three_cycle_is_detected_for_each_member() {
        // 0 → 1 → 2 → 0; 2 also referred 3, who is not on the cycle.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3)];
        for node in 0..3 {
            let findings = graph_findings(&edges, &[], node);
            assert!(has(&findings, Signal::Cycle), "node {node}");
            let cycle = findings
                .iter()
                .find(|f| f.signal == Signal::Cycle)
                .expect("cycle");
            assert_eq!(cycle.evidence("cycle_length"), Some("3"));
        }
        assert_eq!(
            graph_findings(&edges, &[], 0)[0].evidence("cycle"),
            Some("0 → 1 → 2 → 0")
        );
        assert!(graph_findings(&edges, &[], 3).is_empty());
        assert!(
            graph_findings(&[(0, 1), (1, 2)], &[], 1).is_empty(),
            "a chain is no cycle"
        );
        assert!(
            graph_findings(&edges, &[], 99).is_empty(),
            "an unknown account"
        );
    }

    #[test]
    fn referring_oneself_is_a_cycle_of_one() {
        let findings = graph_findings(&[(4, 4)], &[], 4);
        assert!(has(&findings, Signal::Cycle));
        assert_eq!(findings[0].evidence("cycle_length"), Some("1"));
    }

    /// `count` accounts from `first`, each linked to the next `reach` (wrapping round): a ring
    /// where everyone vouches for or refers their neighbours.
    fn ring(first: u32, count: u32, reach: u32) -> Vec<(u32, u32)> {
        (0..count)
            .flat_map(|i| (1..=reach).map(move |k| (first + i, first + (i + k) % count)))
            .collect()
    }

    #[test]
    fn a_ring_of_20_on_one_trusted_link_is_a_dense_ring() {
        // Trusted customer 0 links to account 1 of the ring 1..=20 (each linked to its next 7:
        // 140 of 380 possible links, 36%).
        let mut edges = ring(1, 20, 7);
        edges.push((0, 1));
        let graph = ReferralGraph::new(&edges, &[0]);
        for node in 1..=20 {
            let findings = graph.findings(node, &DenseRingRule::default());
            assert!(
                has(&findings, Signal::DenseRing),
                "node {node}: {findings:?}"
            );
        }
        let findings = graph_findings(&edges, &[0], 5);
        let ring = findings
            .iter()
            .find(|f| f.signal == Signal::DenseRing)
            .expect("ring");
        assert_eq!(ring.evidence("members"), Some("20"));
        assert_eq!(ring.evidence("links_from_trusted"), Some("1"));
        assert_eq!(ring.evidence("density_percent"), Some("36"));
        assert!(
            graph_findings(&edges, &[0], 0)
                .iter()
                .all(|f| f.signal != Signal::DenseRing),
            "the trusted anchor is no member"
        );
    }

    #[test]
    fn an_honest_cluster_with_many_trusted_links_is_not_a_ring() {
        // The same shape, but ten trusted customers (100..110) each referred someone in it.
        let mut edges = ring(1, 20, 7);
        let trusted: Vec<u32> = (100..110).collect();
        for (k, &t) in trusted.iter().enumerate() {
            edges.push((t, 1 + 2 * k as u32));
        }
        for node in 1..=20 {
            let findings = graph_findings(&edges, &trusted, node);
            assert!(
                findings.iter().all(|f| f.signal != Signal::DenseRing),
                "node {node}: {findings:?}"
            );
        }
    }

    #[test]
    fn a_sparse_loop_is_a_cycle_but_not_a_dense_ring() {
        // 20 accounts in one loop: 20 of 380 links (5%).
        let edges = ring(1, 20, 1);
        let findings = graph_findings(&edges, &[], 7);
        assert!(has(&findings, Signal::Cycle));
        assert!(findings.iter().all(|f| f.signal != Signal::DenseRing));
        assert_eq!(findings[0].evidence("cycle_length"), Some("20"));
    }

    #[test]
    fn a_dense_cluster_without_cycles_is_still_a_ring() {
        // Six accounts where each earlier one vouched for every later one: 15 of 30 links, no
        // cycle, hanging on one link from trusted customer 0.
        let mut edges: Vec<(u32, u32)> = (1..=6)
            .flat_map(|a| (a + 1..=6).map(move |b| (a, b)))
            .collect();
        edges.push((0, 1));
        let findings = graph_findings(&edges, &[0], 4);
        assert!(!has(&findings, Signal::Cycle));
        let ring = findings
            .iter()
            .find(|f| f.signal == Signal::DenseRing)
            .expect("ring");
        assert_eq!(
            ring.evidence("cluster"),
            Some("dense cluster around the account")
        );
        assert_eq!(ring.evidence("members"), Some("6"));
    }

    #[test]
    fn referring_one_member_of_a_ring_does_not_make_you_one() {
        // Account 50 referred ring member 1 and two other people; the ring hangs on trusted 0.
        let mut edges = ring(1, 10, 9);
        edges.extend([(0, 1), (50, 1), (50, 51), (50, 52)]);
        assert!(has(&graph_findings(&edges, &[0], 1), Signal::DenseRing));
        assert!(graph_findings(&edges, &[0], 50).is_empty());
    }

    #[test]
    fn the_ring_rule_is_configurable() {
        let mut edges = ring(1, 20, 7);
        edges.extend([(0, 1), (0, 2), (0, 3)]);
        let graph = ReferralGraph::new(&edges, &[0]);
        assert!(
            !has(
                &graph.findings(1, &DenseRingRule::default()),
                Signal::DenseRing
            ),
            "3 trusted links"
        );
        let lenient = DenseRingRule {
            max_trusted_links: 3,
            ..DenseRingRule::default()
        };
        assert!(has(&graph.findings(1, &lenient), Signal::DenseRing));
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        // A cycle through 300,000 accounts: recursive Tarjan would overflow a test thread.
        let n = 300_000u32;
        let edges: Vec<(u32, u32)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        let findings = graph_findings(&edges, &[], 0);
        assert!(has(&findings, Signal::Cycle));
        assert_eq!(findings[0].evidence("cycle_length"), Some("300000"));
        assert!(
            findings[0]
                .evidence("cycle")
                .is_some_and(|c| c.ends_with('…'))
        );
    }

    #[test]
    fn components_match_a_known_graph() {
        // {0,1,2} cycle, 3 alone, {4,5} cycle reached from 3.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 4)];
        let graph = ReferralGraph::new(&edges, &[]);
        let c = &graph.component;
        assert!(c[0] == c[1] && c[1] == c[2]);
        assert!(c[4] == c[5]);
        assert!(c[3] != c[0] && c[3] != c[4] && c[0] != c[4]);
    }

    // ------------------------------------------------------------ proto mapping

    #[test]
    fn signals_and_severities_map_to_the_proto_and_back() {
        for value in 1..=8 {
            let proto = FraudSignal::try_from(value).expect("a proto signal");
            let signal = Signal::try_from(proto).expect("every proto signal has a domain signal");
            assert_eq!(FraudSignal::from(signal), proto);
        }
        assert_eq!(
            Signal::try_from(FraudSignal::Unspecified),
            Err(FraudEnumError::UnspecifiedSignal)
        );
        assert_eq!(Signal::SharedIp.code(), "FRAUD_SIGNAL_SHARED_IP");
        assert_eq!(FraudSeverity::from(Severity::Weak), FraudSeverity::Weak);
        assert_eq!(
            Severity::try_from(FraudSeverity::Strong),
            Ok(Severity::Strong)
        );
        assert!(Severity::try_from(FraudSeverity::Unspecified).is_err());
        assert!(Severity::Weak < Severity::Strong);
    }

    // ------------------------------------------------------------ properties

    fn email_like() -> impl Strategy<Value = String> {
        (
            "[A-Za-z0-9._+-]{0,12}",
            prop::sample::select(vec![
                "gmail.com",
                "GoogleMail.com",
                "outlook.com",
                "example.ro",
                "gmail.com.",
            ]),
        )
            .prop_map(|(local, domain)| format!("{local}@{domain}"))
    }

    fn phone_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\+ ?[1-9]{1,3}( ?\\(0\\))?[0-9 ().\\-/]{5,20}",
            "[ +]{0,2}[0-9 ().\\-/]{0,22}",
        ]
    }

    fn address_lines() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop::string::string_regex("[0-9]{0,3} ?(Main|Ștefan|straße|Hauptstr|O'Connell|B-dul|Æbelø)? ?(St|st\\.|Rd|Ave|Apt|Str\\.|nr\\.|bl|ap)?[ ,.]{0,2}[0-9A-Za-z]{0,4}")
                .expect("a valid regex"),
            0..3,
        )
    }

    /// Re-normalises an address key through the public function.
    fn renormalise_address(key: &str) -> Option<String> {
        let mut parts = key.split(ADDRESS_KEY_SEPARATOR);
        let (street, postal, country) = (parts.next()?, parts.next()?, parts.next()?);
        normalise_address(&[street.to_owned()], postal, country)
    }

    proptest! {
        #[test]
        fn normalise_email_is_idempotent(email in prop_oneof![email_like(), "\\PC{0,30}"]) {
            if let Some(once) = normalise_email(&email) {
                prop_assert_eq!(normalise_email(&once), Some(once.clone()));
            }
        }

        #[test]
        fn gmail_variants_normalise_alike(name in "[a-z0-9]{1,12}", dots in prop::collection::vec(any::<bool>(), 12), tag in "[a-z0-9]{0,6}", upper in any::<bool>()) {
            let dotted: String = name.chars().zip(&dots).flat_map(|(c, &dot)| [Some(c), dot.then_some('.')]).flatten().collect();
            let mut variant = format!("{dotted}+{tag}@googlemail.com");
            if upper {
                variant = variant.to_uppercase();
            }
            prop_assert_eq!(normalise_email(&variant), Some(format!("{name}@gmail.com")));
        }

        #[test]
        fn normalise_phone_is_idempotent(phone in prop_oneof![phone_like(), "\\PC{0,20}"]) {
            if let Some(once) = normalise_phone(&phone) {
                prop_assert_eq!(normalise_phone(&once), Some(once.clone()));
            }
        }

        #[test]
        fn normalise_address_is_idempotent(
            lines in prop_oneof![address_lines(), prop::collection::vec("\\PC{0,30}", 0..3)],
            postal in "[A-Za-z0-9 -]{0,8}",
            country in prop::sample::select(vec!["RO", "ro", "GB", "DE", "us", "", "FR"]),
        ) {
            if let Some(once) = normalise_address(&lines, &postal, country) {
                prop_assert_eq!(renormalise_address(&once), Some(once.clone()));
            }
        }

        #[test]
        fn cycles_are_found_exactly_where_they_exist(
            edges in prop::collection::vec((0u32..12, 0u32..12), 0..40),
        ) {
            let graph = ReferralGraph::new(&edges, &[]);
            let nodes = graph.component.len() as u32;
            let reaches = |from: u32, to: u32| {
                let mut seen = HashSet::from([from]);
                let mut stack = vec![from];
                while let Some(v) = stack.pop() {
                    for &w in graph.successors.of(v) {
                        if w == to {
                            return true;
                        }
                        if seen.insert(w) {
                            stack.push(w);
                        }
                    }
                }
                false
            };
            for node in 0..nodes {
                let on_cycle = edges.contains(&(node, node)) || reaches(node, node);
                let cycle = graph.cycle_through(node);
                prop_assert_eq!(cycle.is_some(), on_cycle, "node {}", node);
                if let Some(cycle) = cycle {
                    prop_assert_eq!(cycle.first(), Some(&node));
                    prop_assert_eq!(cycle.last(), Some(&node));
                    for pair in cycle.windows(2) {
                        prop_assert!(edges.contains(&(pair[0], pair[1])), "{:?} is not an edge", pair);
                    }
                }
                for other in 0..nodes {
                    let same = graph.component[node as usize] == graph.component[other as usize];
                    prop_assert_eq!(same, node == other || (reaches(node, other) && reaches(other, node)));
                }
            }
        }

        #[test]
        fn shared_ip_alone_never_holds(ip in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}") {
            let side = Identity { ip_addresses: vec![ip], ..Identity::default() };
            prop_assert!(!holds_rewards(&self_referral(&side, &side)));
        }
    }
}
