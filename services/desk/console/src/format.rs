//! Values as the agent reads them: money in the customer's locale with the currency's exponent
//! (rapport_money::format_money), instants and dates in the customer's time zone and locale,
//! enum values in words, names in their own language and direction.

use jiff::tz::TimeZone;
use maud::{Markup, html};
use rapport_proto::common::v1 as common;

/// The customer a page is about: how to write their name, money and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Audience {
    pub locale: String,
    pub time_zone: String,
}

impl Default for Audience {
    fn default() -> Self {
        Self {
            locale: "en-GB".to_owned(),
            time_zone: "UTC".to_owned(),
        }
    }
}

impl Audience {
    pub fn money(&self, money: Option<&common::Money>) -> String {
        money_text(money, &self.locale)
    }

    /// An instant in the customer's zone: "10/03/2026 09:00 (Europe/London)".
    pub fn instant(&self, at: Option<&prost_types::Timestamp>) -> String {
        let Some(at) = at else {
            return "—".to_owned();
        };
        let Ok(timestamp) = jiff::Timestamp::new(at.seconds, at.nanos.max(0)) else {
            return "—".to_owned();
        };
        let zone = TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC);
        let zoned = timestamp.to_zoned(zone);
        let date = zoned.date();
        format!(
            "{} {:02}:{:02} ({})",
            date_text(
                i32::from(date.year()),
                date.month().into(),
                date.day().into(),
                &self.locale
            ),
            zoned.hour(),
            zoned.minute(),
            self.time_zone
        )
    }

    /// The instant as `<time datetime>`, in the customer's zone.
    pub fn time(&self, at: Option<&prost_types::Timestamp>) -> Markup {
        let iso = at
            .and_then(|at| jiff::Timestamp::new(at.seconds, at.nanos.max(0)).ok())
            .map(|t| t.to_string())
            .unwrap_or_default();
        html! { time datetime=(iso) { (self.instant(at)) } }
    }

    pub fn date(&self, date: Option<&common::Date>) -> Markup {
        match date {
            Some(d) if d.year != 0 => {
                let iso = format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
                html! { time datetime=(iso) { (date_text(d.year, d.month, d.day, &self.locale)) } }
            }
            _ => html! { "—" },
        }
    }
}

pub(crate) fn money_text(money: Option<&common::Money>, locale: &str) -> String {
    let Some(money) = money else {
        return "—".to_owned();
    };
    match rapport_money::Currency::parse(&money.currency_code) {
        Ok(currency) => rapport_money::format_money(
            rapport_money::Money::from_minor(currency, money.minor_units),
            locale,
        ),
        Err(_) => format!("{} {}", money.minor_units, money.currency_code),
    }
}

/// A calendar date in the locale's numeric order (day-month-year in most of Europe, year first
/// in East Asia, month first in the US).
pub(crate) fn date_text(year: i32, month: i32, day: i32, locale: &str) -> String {
    let mut parts = locale.split(['-', '_']);
    let language = parts.next().unwrap_or_default().to_ascii_lowercase();
    let region = parts
        .find(|p| p.len() == 2)
        .unwrap_or_default()
        .to_ascii_uppercase();
    match (language.as_str(), region.as_str()) {
        ("en", "US") => format!("{month:02}/{day:02}/{year:04}"),
        ("ja" | "zh", _) => format!("{year:04}/{month:02}/{day:02}"),
        ("ko" | "hu", _) => format!("{year:04}. {month:02}. {day:02}."),
        ("sv" | "lt" | "", _) => format!("{year:04}-{month:02}-{day:02}"),
        ("nl", _) => format!("{day:02}-{month:02}-{year:04}"),
        (
            "de" | "ro" | "ru" | "pl" | "cs" | "sk" | "fi" | "nb" | "no" | "da" | "tr" | "uk"
            | "bg" | "et" | "lv" | "sr" | "hr" | "sl",
            _,
        ) => format!("{day:02}.{month:02}.{year:04}"),
        _ => format!("{day:02}/{month:02}/{year:04}"),
    }
}

/// "NEXT_ACTION_KIND_SPECIALIST_REVIEW" with prefix "NEXT_ACTION_KIND_" → "Specialist review".
pub(crate) fn words(name: &str, prefix: &str) -> String {
    let rest = name.strip_prefix(prefix).unwrap_or(name);
    let lower = rest.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A channel as the agent says it ("SMS", "in-app message").
pub(crate) fn channel_words(channel: i32) -> String {
    use common::Channel;
    match Channel::try_from(channel) {
        Ok(Channel::Sms) => "SMS".to_owned(),
        Ok(Channel::InApp) => "in-app message".to_owned(),
        Ok(Channel::Push) => "push notification".to_owned(),
        Ok(Channel::Letter) => "letter".to_owned(),
        Ok(Channel::Unspecified) | Err(_) => "any channel".to_owned(),
        Ok(other) => words(other.as_str_name(), "CHANNEL_").to_lowercase(),
    }
}

/// An enum field in words: `enum_words::<Channel>(value, "CHANNEL_")`.
macro_rules! enum_words {
    ($ty:ty, $value:expr, $prefix:literal) => {
        <$ty>::try_from($value)
            .map(|v| $crate::format::words(v.as_str_name(), $prefix))
            .unwrap_or_else(|_| "Unknown".to_owned())
    };
}
pub(crate) use enum_words;

/// A customer's name in their own language and direction (Arabic right to left inside its
/// field, whatever surrounds it).
pub(crate) fn name(text: &str, locale: &str) -> Markup {
    html! { bdi lang=(locale) dir="auto" { (text) } }
}

/// The name an agent uses: preferred, else legal.
pub(crate) fn display_name(legal: &str, preferred: &str) -> String {
    if preferred.trim().is_empty() {
        legal.to_owned()
    } else {
        preferred.to_owned()
    }
}

/// A UUID shortened for display where the full one is in a link.
pub(crate) fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_in_the_customers_zone_and_date_order() {
        let tokyo = Audience {
            locale: "ja-JP".into(),
            time_zone: "Asia/Tokyo".into(),
        };
        // 2026-03-01T23:30:00Z is already 2 March in Tokyo.
        let at = prost_types::Timestamp {
            seconds: 1_772_407_800,
            nanos: 0,
        };
        assert_eq!(tokyo.instant(Some(&at)), "2026/03/02 08:30 (Asia/Tokyo)");
        let london = Audience {
            locale: "en-GB".into(),
            time_zone: "Europe/London".into(),
        };
        assert_eq!(
            london.instant(Some(&at)),
            "01/03/2026 23:30 (Europe/London)"
        );
        assert_eq!(date_text(2026, 3, 10, "en-US"), "03/10/2026");
        assert_eq!(date_text(2026, 3, 10, "ro-RO"), "10.03.2026");
    }

    #[test]
    fn enum_names_read_as_words() {
        assert_eq!(
            words("NEXT_ACTION_KIND_SPECIALIST_REVIEW", "NEXT_ACTION_KIND_"),
            "Specialist review"
        );
        assert_eq!(enum_words!(common::Channel, 1, "CHANNEL_"), "Phone");
        assert_eq!(enum_words!(common::Channel, 999, "CHANNEL_"), "Unknown");
    }

    #[test]
    fn money_follows_the_customers_locale() {
        let money = common::Money {
            currency_code: "KWD".into(),
            minor_units: 1_234_567,
        };
        assert_eq!(money_text(Some(&money), "ar-KW"), "١٬٢٣٤٫٥٦٧ KWD");
        assert_eq!(money_text(Some(&money), "en-GB"), "KWD 1,234.567");
        assert_eq!(money_text(None, "en-GB"), "—");
    }
}
