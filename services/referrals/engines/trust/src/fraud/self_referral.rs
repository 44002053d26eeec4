//! Self-referral: the referrer and the referee share an email, phone, postal address or device;
//! a shared IP address is recorded as a weak signal only.

use std::net::IpAddr;

use super::{ADDRESS_KEY_SEPARATOR, Finding, Identity, Signal, normalise_email, normalise_phone};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fraud::testing::*;
    use crate::fraud::{Severity, holds_rewards};
    use proptest::prelude::*;

    // ------------------------------------------------------------ email
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

    proptest! {
        #[test]
        fn shared_ip_alone_never_holds(ip in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}") {
            let side = Identity { ip_addresses: vec![ip], ..Identity::default() };
            prop_assert!(!holds_rewards(&self_referral(&side, &side)));
        }
    }
}
