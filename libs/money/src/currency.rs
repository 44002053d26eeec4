//! An ISO 4217 currency and the number of decimal places its minor unit has.

use std::fmt;
use std::str::FromStr;

use crate::error::excerpt;
use crate::{MoneyError, iso4217};

/// An active ISO 4217 currency, e.g. EUR (exponent 2), JPY (0) or KWD (3).
///
/// Only [`Currency::parse`] and the constants build one, so every value names a currency from
/// the embedded table and carries that table's exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    minor_unit_exponent: u8,
}

impl Currency {
    pub const EUR: Self = Self::known("EUR", 2);
    pub const USD: Self = Self::known("USD", 2);
    pub const GBP: Self = Self::known("GBP", 2);
    pub const CHF: Self = Self::known("CHF", 2);
    pub const RON: Self = Self::known("RON", 2);
    pub const JPY: Self = Self::known("JPY", 0);
    pub const KWD: Self = Self::known("KWD", 3);

    const fn known(code: &'static str, minor_unit_exponent: u8) -> Self {
        Self {
            code,
            minor_unit_exponent,
        }
    }

    /// Looks up an alphabetic ISO 4217 code.
    ///
    /// The code must be exactly three uppercase ASCII letters: `"eur"` and `" EUR"` are refused
    /// rather than repaired, so every stored or echoed code has one spelling and a client bug
    /// shows up at the edge instead of as two spellings of one currency.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyError::MalformedCurrencyCode {
                input: excerpt(code),
            });
        }
        iso4217::lookup(code)
            .map(|&(code, minor_unit_exponent)| Self::known(code, minor_unit_exponent))
            .ok_or_else(|| MoneyError::UnknownCurrency {
                code: code.to_owned(),
            })
    }

    /// Every currency in the embedded table, in code order.
    pub fn all() -> impl ExactSizeIterator<Item = Self> {
        iso4217::CURRENCIES
            .iter()
            .map(|&(code, minor_unit_exponent)| Self::known(code, minor_unit_exponent))
    }

    /// The alphabetic code, e.g. `"EUR"`.
    pub const fn code(self) -> &'static str {
        self.code
    }

    /// Decimal places of the minor unit: 2 for EUR (cents), 0 for JPY, 3 for KWD (fils).
    pub const fn minor_unit_exponent(self) -> u8 {
        self.minor_unit_exponent
    }

    /// Minor units in one major unit: 100 for EUR, 1 for JPY, 1000 for KWD.
    pub const fn minor_units_per_major(self) -> i64 {
        // The table's exponents are at most 4, so this never overflows.
        10_i64.pow(self.minor_unit_exponent as u32)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exponent(code: &str) -> u8 {
        Currency::parse(code)
            .expect("code is in the table")
            .minor_unit_exponent()
    }

    #[test]
    fn common_currencies_have_their_iso_exponents() {
        let expected = [
            ("EUR", 2),
            ("USD", 2),
            ("GBP", 2),
            ("JPY", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("JOD", 3),
            ("OMR", 3),
            ("TND", 3),
            ("CHF", 2),
            ("RON", 2),
            ("PLN", 2),
            ("CZK", 2),
            ("HUF", 2),
            ("SEK", 2),
            ("NOK", 2),
            ("DKK", 2),
            ("ISK", 0),
            ("KRW", 0),
            ("CLP", 0),
            ("VND", 0),
            ("CAD", 2),
            ("AUD", 2),
            ("NZD", 2),
            ("INR", 2),
            ("CNY", 2),
            ("BRL", 2),
            ("MXN", 2),
            ("ZAR", 2),
            ("CLF", 4),
        ];
        for (code, digits) in expected {
            assert_eq!(exponent(code), digits, "{code}");
        }
    }

    #[test]
    fn constants_agree_with_the_table() {
        for constant in [
            Currency::EUR,
            Currency::USD,
            Currency::GBP,
            Currency::CHF,
            Currency::RON,
            Currency::JPY,
            Currency::KWD,
        ] {
            assert_eq!(Currency::parse(constant.code()), Ok(constant));
        }
    }

    #[test]
    fn lowercase_and_padded_codes_are_malformed_not_repaired() {
        for input in ["eur", "Eur", " EUR", "EUR ", "EU", "EURO", "", "E1R", "ÉUR"] {
            assert_eq!(
                Currency::parse(input),
                Err(MoneyError::MalformedCurrencyCode {
                    input: input.to_owned()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn well_formed_but_unknown_codes_are_refused() {
        for code in ["ABC", "HRK", "XAU", "XXX"] {
            assert_eq!(
                Currency::parse(code),
                Err(MoneyError::UnknownCurrency {
                    code: code.to_owned()
                })
            );
        }
    }

    #[test]
    fn displays_and_parses_as_its_code() {
        for currency in Currency::all() {
            assert_eq!(currency.to_string().parse::<Currency>(), Ok(currency));
        }
    }

    #[test]
    fn minor_units_per_major_follows_the_exponent() {
        assert_eq!(Currency::JPY.minor_units_per_major(), 1);
        assert_eq!(Currency::EUR.minor_units_per_major(), 100);
        assert_eq!(Currency::KWD.minor_units_per_major(), 1000);
    }
}
