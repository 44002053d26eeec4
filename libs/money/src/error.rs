//! Why a money operation was refused, worded for the API caller who sent the input.

use std::fmt;

use crate::Currency;

/// Everything that can go wrong building or combining amounts. No operation in this crate
/// panics or wraps; each refusal is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency code \"{input}\" is not three uppercase letters (ISO 4217, e.g. \"EUR\")")]
    MalformedCurrencyCode { input: String },

    #[error("currency code \"{code}\" is not an active ISO 4217 currency")]
    UnknownCurrency { code: String },

    #[error("cannot combine amounts in different currencies: {left} and {right}")]
    CurrencyMismatch { left: Currency, right: Currency },

    #[error("{operation} of {currency} amounts overflows the supported range (64-bit minor units)")]
    Overflow {
        operation: Operation,
        currency: Currency,
    },

    #[error("amount \"{input}\" is not a decimal number like \"12.34\" or \"-0.50\"")]
    MalformedAmount { input: String },

    #[error("\"{input}\" is not a currency code and amount like \"EUR 12.34\"")]
    MalformedMoney { input: String },

    #[error(
        "amount \"{input}\" is finer than {currency} allows: at most {} decimal places",
        .currency.minor_unit_exponent()
    )]
    SubMinorAmount { currency: Currency, input: String },

    #[error("amount \"{input}\" is outside the supported range for {currency}")]
    AmountOutOfRange { currency: Currency, input: String },

    #[error(
        "minor part {minor} does not fit major part {major} in {currency}: it must be below {} \
         in size and carry the same sign as the major part",
        .currency.minor_units_per_major()
    )]
    InvalidMinorPart {
        currency: Currency,
        major: i64,
        minor: i64,
    },

    #[error("cannot split an amount into zero parts")]
    ZeroParts,

    #[error("cannot allocate an amount without any weights")]
    NoWeights,

    #[error("cannot allocate an amount when every weight is zero")]
    ZeroTotalWeight,

    #[error("cannot divide by {denominator}: the denominator must be positive")]
    NonPositiveDenominator { denominator: i128 },
}

/// The arithmetic that overflowed, named in [`MoneyError::Overflow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Addition,
    Subtraction,
    Multiplication,
    Negation,
    Sum,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Addition => "addition",
            Self::Subtraction => "subtraction",
            Self::Multiplication => "multiplication",
            Self::Negation => "negation",
            Self::Sum => "sum",
        })
    }
}

/// Caller input echoed in an error, cut short so a hostile multi-megabyte string never ends up
/// in a response or a log line.
pub(crate) fn excerpt(input: &str) -> String {
    const MAX_CHARS: usize = 40;
    match input.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_input_and_cuts_long_input_on_a_char_boundary() {
        assert_eq!(excerpt("12.34"), "12.34");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 41);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn messages_name_the_problem() {
        let eur = Currency::EUR;
        assert_eq!(
            MoneyError::SubMinorAmount {
                currency: eur,
                input: "12.345".into()
            }
            .to_string(),
            "amount \"12.345\" is finer than EUR allows: at most 2 decimal places"
        );
        assert_eq!(
            MoneyError::CurrencyMismatch {
                left: eur,
                right: Currency::USD
            }
            .to_string(),
            "cannot combine amounts in different currencies: EUR and USD"
        );
        assert_eq!(
            MoneyError::Overflow {
                operation: Operation::Addition,
                currency: eur
            }
            .to_string(),
            "addition of EUR amounts overflows the supported range (64-bit minor units)"
        );
    }
}
