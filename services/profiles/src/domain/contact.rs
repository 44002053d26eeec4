//! Validated contact points and settings of a customer: email, phone, locale, time zone.
//!
//! Each type is built only through `parse`, so holding one means the value has been checked and
//! normalised. Error messages are written for the API caller, who adds the field name in front
//! ("email is not an email address …"); they never repeat the rejected value, which is PII.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Why a contact point or setting was rejected; the caller prefixes the field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("is not an email address (expected name@domain)")]
    NotAnEmail,
    #[error(
        "is not an E.164 phone number (expected +, country code and number, e.g. +40721234567)"
    )]
    NotAPhoneNumber,
    #[error("is not a BCP 47 locale (e.g. ro-RO)")]
    NotALocale,
    #[error("is not an IANA time zone (e.g. Europe/Bucharest)")]
    NotATimeZone,
    #[error("must be an IANA time zone, not a fixed offset (e.g. Europe/Bucharest)")]
    FixedOffsetTimeZone,
}

/// An email address: `local@domain`, domain lowercased, local part kept as given (some mail
/// servers treat it case-sensitively).
///
/// Lengths follow RFC 5321 (local part 64, domain 253, whole address 254), counted in
/// characters. An internationalised domain is checked in its Unicode form (after NFC); its
/// punycode form can be longer, which only the mail server can judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let text = text.trim();
        let (local, domain) = text.split_once('@').ok_or(ContactError::NotAnEmail)?;
        let domain: String = domain.nfc().collect();
        if !is_local_part(local) || !is_domain(&domain) {
            return Err(ContactError::NotAnEmail);
        }
        let address = format!("{local}@{}", domain.to_lowercase());
        if address.chars().count() > 254 {
            return Err(ContactError::NotAnEmail);
        }
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_local_part(local: &str) -> bool {
    (1..=64).contains(&local.chars().count())
        && local
            .chars()
            .all(|c| c != '@' && !c.is_whitespace() && !c.is_control())
}

fn is_domain(domain: &str) -> bool {
    (1..=253).contains(&domain.chars().count())
        && domain.contains('.')
        && domain.split('.').all(is_domain_label)
}

/// A DNS label: letters (any script, for IDN), digits and inner hyphens, at most 63 long.
fn is_domain_label(label: &str) -> bool {
    let mut chars = label.chars();
    let (Some(first), Some(last)) = (chars.next(), label.chars().next_back()) else {
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

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form: `+`, then 2 to 15 digits, the first not 0.
///
/// Callers may group digits with spaces, hyphens, dots or parentheses; these are removed. A
/// "(0)" is removed whole: in "+44 (0)20 7946 0018" it marks the trunk prefix dialled only at
/// home, and keeping its 0 would store a different, wrong number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let digits_and_grouping = text
            .trim()
            .strip_prefix('+')
            .ok_or(ContactError::NotAPhoneNumber)?
            .replace("(0)", "");
        let mut number = String::from("+");
        for c in digits_and_grouping.chars() {
            match c {
                '0'..='9' => number.push(c),
                '-' | '.' | '(' | ')' => {}
                c if c.is_whitespace() => {}
                _ => return Err(ContactError::NotAPhoneNumber),
            }
        }
        let digits = &number[1..];
        if !(2..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(ContactError::NotAPhoneNumber);
        }
        Ok(Self(number))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A BCP 47 language tag of the form `language[-Script][-REGION](-variant)*`, checked
/// structurally (RFC 5646 §2.1) and written in canonical case: `ro-RO`, `sr-Latn-RS`, `es-419`.
///
/// `_` is accepted as a separator (`ro_RO`, as POSIX locales write it) and stored as `-`.
/// Not accepted: 5–8 letter language subtags (reserved by RFC 5646 and never registered, so
/// in practice they are mistakes like "english"), extended language subtags, extensions
/// (`-u-…`) and private use (`-x-…`); a locale picks message templates, and those are not
/// keyed by them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let text = text.trim().replace('_', "-");
        let mut subtags = text.split('-').peekable();

        let language = subtags
            .next()
            .filter(|s| (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic()))
            .ok_or(ContactError::NotALocale)?;
        let mut tag = language.to_ascii_lowercase();

        if let Some(script) =
            subtags.next_if(|s| s.len() == 4 && s.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            tag.push('-');
            tag.push_str(&script[..1].to_ascii_uppercase());
            tag.push_str(&script[1..].to_ascii_lowercase());
        }

        if let Some(region) = subtags.next_if(|s| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
                || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        }) {
            tag.push('-');
            tag.push_str(&region.to_ascii_uppercase());
        }

        let mut variants: Vec<String> = Vec::new();
        for variant in subtags {
            let variant = variant.to_ascii_lowercase();
            // RFC 5646 §2.2.9: a variant appears at most once.
            if !is_variant(&variant) || variants.contains(&variant) {
                return Err(ContactError::NotALocale);
            }
            tag.push('-');
            tag.push_str(&variant);
            variants.push(variant);
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 5–8 alphanumerics (`rozaj`, `valencia`) or a digit and 3 alphanumerics (`1996`).
fn is_variant(subtag: &str) -> bool {
    let alphanumeric = subtag.bytes().all(|b| b.is_ascii_alphanumeric());
    match subtag.len() {
        5..=8 => alphanumeric,
        4 => alphanumeric && subtag.as_bytes()[0].is_ascii_digit(),
        _ => false,
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone name from the bundled tz database, stored in its canonical spelling
/// ("europe/bucharest" becomes "Europe/Bucharest").
///
/// Fixed offsets such as "+02:00" are rejected: a customer lives in a place whose offset
/// changes with daylight saving time, and contact hours and anniversaries must follow it. Any
/// name the database knows is accepted, including "UTC", links such as "Europe/Kiev" and the
/// "Etc/GMT±N" zones (note their POSIX sign: "Etc/GMT-2" is two hours *ahead* of UTC).
#[derive(Debug, Clone)]
pub struct TimeZoneName {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl TimeZoneName {
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let text = text.trim();
        if looks_like_an_offset(text) {
            return Err(ContactError::FixedOffsetTimeZone);
        }
        let zone = jiff::tz::TimeZone::get(text).map_err(|_| ContactError::NotATimeZone)?;
        // "Etc/Unknown" resolves but has no IANA name: it means "we don't know", so reject it.
        let name = zone
            .iana_name()
            .ok_or(ContactError::NotATimeZone)?
            .to_owned();
        Ok(Self { name, zone })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        self.zone.clone()
    }
}

fn looks_like_an_offset(text: &str) -> bool {
    let text = text
        .strip_prefix("UTC")
        .or_else(|| text.strip_prefix("GMT"))
        .unwrap_or(text);
    // U+2212 is the minus sign word processors substitute for a hyphen.
    text.strip_prefix(['+', '-', '\u{2212}'])
        .is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == ':')
        })
}

/// Two names are equal when they name the same database entry; the zone follows from it.
impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_domain_is_lowercased_and_local_part_kept() {
        let email = Email::parse("  Ana.Popescu@Example.RO ").expect("valid email");
        assert_eq!(email.as_str(), "Ana.Popescu@example.ro");
        assert_eq!(email.to_string(), "Ana.Popescu@example.ro");
    }

    #[test]
    fn email_accepts_plus_tags_subdomains_and_internationalised_domains() {
        for text in [
            "ana+bills@mail.bank.co.uk",
            "ion@münchen.de",
            "x@a-b.io",
            "ana@xn--mnchen-3ya.de",
        ] {
            assert!(Email::parse(text).is_ok(), "{text}");
        }
        // A domain typed decomposed (u + combining diaeresis) is stored composed.
        let email = Email::parse("ion@mu\u{0308}nchen.de").expect("valid email");
        assert_eq!(email.as_str(), "ion@münchen.de");
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for text in [
            "",
            "ana",
            "ana@",
            "@x.ro",
            "ana@x",
            "ana @x.ro",
            "ana@x..ro",
            "ana@@x.ro",
            "ana@b@x.ro",
            "ana@-x.ro",
            "ana@x-.ro",
            "ana@x.ro.",
            "ana@.x.ro",
            "ana@x_y.ro",
            "an\ta@x.ro",
            "ana@x ro",
        ] {
            assert_eq!(
                Email::parse(text),
                Err(ContactError::NotAnEmail),
                "{text:?}"
            );
        }
    }

    #[test]
    fn email_enforces_rfc_5321_lengths() {
        let local_64 = "a".repeat(64);
        assert!(Email::parse(&format!("{local_64}@x.ro")).is_ok());
        assert!(Email::parse(&format!("{}@x.ro", "a".repeat(65))).is_err());

        let label_63 = "b".repeat(63);
        assert!(Email::parse(&format!("a@{label_63}.ro")).is_ok());
        assert!(Email::parse(&format!("a@{}.ro", "b".repeat(64))).is_err());

        // 64 + 1 + 189 = 254 characters is the longest address.
        let domain =
            |third_label: usize| format!("{label_63}.{label_63}.{}.ro", "c".repeat(third_label));
        assert_eq!(domain(58).len(), 189);
        assert!(Email::parse(&format!("{local_64}@{}", domain(58))).is_ok());
        assert!(Email::parse(&format!("{local_64}@{}", domain(59))).is_err());
    }

    #[test]
    fn phone_grouping_characters_are_removed() {
        let phone = Phone::parse(" +40 721 234 567 ").expect("valid phone");
        assert_eq!(phone.as_str(), "+40721234567");
        assert_eq!(phone.to_string(), "+40721234567");
        let us = Phone::parse("+1 (212) 555-0123").expect("valid phone");
        assert_eq!(us.as_str(), "+12125550123");
        let dotted = Phone::parse("+33.1.23.45.67.89").expect("valid phone");
        assert_eq!(dotted.as_str(), "+33123456789");
    }

    #[test]
    fn phone_trunk_prefix_in_parentheses_is_dropped() {
        let phone = Phone::parse("+44 (0)20 7946 0018").expect("valid phone");
        assert_eq!(phone.as_str(), "+442079460018");
    }

    #[test]
    fn phone_length_limits_follow_e164() {
        assert!(Phone::parse("+12").is_ok());
        assert!(Phone::parse("+123456789012345").is_ok());
        assert!(Phone::parse("+1").is_err());
        assert!(Phone::parse("+1234567890123456").is_err());
    }

    #[test]
    fn phone_rejects_numbers_that_are_not_e164() {
        for text in [
            "",
            "+",
            "0721234567",
            "40721234567",
            "+0721234567",
            "+40 721 ABC",
            "+40721234567x",
            "++40721234567",
            "+40/721234567",
            "+٤٠٧٢١٢٣٤٥٦٧",
        ] {
            assert_eq!(
                Phone::parse(text),
                Err(ContactError::NotAPhoneNumber),
                "{text:?}"
            );
        }
    }

    #[test]
    fn locale_accepts_common_tags_in_canonical_case() {
        for (text, canonical) in [
            ("ro-RO", "ro-RO"),
            ("en", "en"),
            ("sr-Latn-RS", "sr-Latn-RS"),
            ("zh-Hant-TW", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("ro_ro", "ro-RO"),
            ("SR-LATN-rs", "sr-Latn-RS"),
            ("fil-PH", "fil-PH"),
            ("de-CH-1996", "de-CH-1996"),
            ("sl-Rozaj-BISKE", "sl-rozaj-biske"),
            (" pt-BR ", "pt-BR"),
        ] {
            let locale = Locale::parse(text).expect(text);
            assert_eq!(locale.as_str(), canonical);
            assert_eq!(locale.to_string(), canonical);
        }
    }

    #[test]
    fn locale_rejects_malformed_tags() {
        for text in [
            "",
            "english",
            "e",
            "ro-",
            "ro--RO",
            "12-RO",
            "-RO",
            "ro-RO-",
            "ro-R",
            "ro-ROM1",
            "ro-RO-ro-RO",
            "en-US-u-ca-gregory",
            "x-private",
            "de-1996-1996",
            "ro RO",
        ] {
            assert_eq!(
                Locale::parse(text),
                Err(ContactError::NotALocale),
                "{text:?}"
            );
        }
    }

    #[test]
    fn time_zone_names_resolve_with_the_bundled_database() {
        for name in [
            "Europe/Bucharest",
            "America/New_York",
            "UTC",
            "Pacific/Auckland",
        ] {
            let zone = TimeZoneName::parse(name).expect(name);
            assert_eq!(zone.as_str(), name);
            assert_eq!(zone.to_string(), name);
            assert_eq!(zone.time_zone().iana_name(), Some(name));
        }
    }

    #[test]
    fn time_zone_names_are_stored_in_canonical_spelling() {
        let zone = TimeZoneName::parse(" europe/bucharest ").expect("valid zone");
        assert_eq!(zone.as_str(), "Europe/Bucharest");
        assert_eq!(
            zone,
            TimeZoneName::parse("Europe/Bucharest").expect("valid zone")
        );
    }

    #[test]
    fn unknown_time_zones_are_rejected() {
        for text in [
            "",
            "Mars/Olympus",
            "Europe/Bucharestt",
            "Etc/Unknown",
            "Bucharest",
        ] {
            assert_eq!(
                TimeZoneName::parse(text),
                Err(ContactError::NotATimeZone),
                "{text:?}"
            );
        }
    }

    #[test]
    fn fixed_offsets_are_rejected_with_their_own_message() {
        for text in ["+02:00", "-05:00", "+0200", "UTC+2", "GMT-03:00", "−05:00"] {
            assert_eq!(
                TimeZoneName::parse(text),
                Err(ContactError::FixedOffsetTimeZone),
                "{text:?}"
            );
        }
    }

    #[test]
    fn error_messages_read_after_a_field_name() {
        for error in [
            ContactError::NotAnEmail,
            ContactError::NotAPhoneNumber,
            ContactError::NotALocale,
            ContactError::NotATimeZone,
            ContactError::FixedOffsetTimeZone,
        ] {
            let message = error.to_string();
            assert!(
                message.starts_with("is ") || message.starts_with("must "),
                "{message}"
            );
        }
        assert_eq!(
            ContactError::NotAnEmail.to_string(),
            "is not an email address (expected name@domain)"
        );
    }
}
