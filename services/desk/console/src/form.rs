//! A posted form as the agent typed it: ordered (name, value) pairs, so the page can be
//! rendered again with nothing lost, and money read in the account's currency.

use rapport_proto::common::v1 as common;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self {
            pairs: form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The first value posted under `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn trimmed(&self, name: &str) -> String {
        self.get(name).trim().to_owned()
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.pairs.iter_mut().find(|(k, _)| k == name) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((name.to_owned(), value)),
        }
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

/// An amount typed by an agent, in `currency`: "12.50", "12,50", "1 234.50" (spaces and a
/// decimal comma accepted; never rounded: finer than the minor unit is an error).
pub(crate) fn parse_amount(text: &str, currency: &str) -> Result<common::Money, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect();
    if cleaned.is_empty() {
        return Err("Enter an amount.".to_owned());
    }
    let cleaned = if cleaned.contains(',') && !cleaned.contains('.') {
        cleaned.replace(',', ".")
    } else {
        cleaned.replace(',', "")
    };
    let currency_parsed = rapport_money::Currency::parse(currency)
        .map_err(|_| format!("The account's currency {currency} is not known."))?;
    let money =
        rapport_money::Money::from_decimal_str(currency_parsed, &cleaned).map_err(|_| {
            let decimals = currency_parsed.minor_unit_exponent();
            let example = amount_example(currency, "");
            format!(
                "Enter an amount in {currency} with at most {decimals} decimals, e.g. {example}."
            )
        })?;
    Ok(common::Money {
        currency_code: currency.to_owned(),
        minor_units: money.minor_units(),
    })
}

/// An amount an agent could type in `currency`, written with the locale's decimal mark: "50.00"
/// (en-GB), "50,00" (ro-RO), "50" (JPY), "50.000" (KWD). Digits stay ASCII: that is what
/// [`parse_amount`] reads.
pub(crate) fn amount_example(currency: &str, locale: &str) -> String {
    let exponent = rapport_money::Currency::parse(currency)
        .map_or(2, rapport_money::Currency::minor_unit_exponent);
    if exponent == 0 {
        return "50".to_owned();
    }
    let comma = rapport_money::Currency::parse("EUR").is_ok_and(|eur| {
        rapport_money::format_money(rapport_money::Money::from_minor(eur, 150), locale)
            .contains("1,50")
    });
    let mark = if comma { ',' } else { '.' };
    format!("50{mark}{}", "0".repeat(usize::from(exponent)))
}

/// A date typed as YYYY-MM-DD (what a date input posts).
pub(crate) fn parse_date(text: &str) -> Result<common::Date, String> {
    let date: jiff::civil::Date = text
        .trim()
        .parse()
        .map_err(|_| "Enter a date as YYYY-MM-DD.".to_owned())?;
    Ok(common::Date {
        year: i32::from(date.year()),
        month: i32::from(date.month()),
        day: i32::from(date.day()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_typed_comes_back_in_order() {
        let form = Form::parse(b"name=%C8%98tefan+Ionescu&phone=&name=second");
        assert_eq!(form.get("name"), "Ștefan Ionescu");
        assert_eq!(form.get("phone"), "");
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn amounts_keep_the_currencys_exponent_and_are_never_rounded() {
        assert_eq!(
            parse_amount("12,50", "EUR").map(|m| m.minor_units),
            Ok(1250)
        );
        assert_eq!(
            parse_amount("1 234.5", "GBP").map(|m| m.minor_units),
            Ok(123_450)
        );
        assert_eq!(parse_amount("1500", "JPY").map(|m| m.minor_units), Ok(1500));
        assert_eq!(
            parse_amount("1.234", "KWD").map(|m| m.minor_units),
            Ok(1234)
        );
        assert!(parse_amount("1.5", "JPY").is_err());
        assert!(parse_amount("abc", "EUR").is_err());
        assert!(parse_amount("", "EUR").is_err());
    }

    #[test]
    fn the_example_amount_follows_the_currency_and_the_locale() {
        assert_eq!(amount_example("GBP", "en-GB"), "50.00");
        assert_eq!(amount_example("RON", "ro-RO"), "50,00");
        assert_eq!(amount_example("JPY", "ja-JP"), "50");
        assert_eq!(amount_example("KWD", "en-GB"), "50.000");
        for (currency, locale) in [("RON", "ro-RO"), ("KWD", "ar-KW"), ("USD", "en-US")] {
            assert!(parse_amount(&amount_example(currency, locale), currency).is_ok());
        }
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(
            parse_date("2026-03-10"),
            Ok(common::Date {
                year: 2026,
                month: 3,
                day: 10
            })
        );
        assert!(parse_date("2026-02-30").is_err());
    }
}
