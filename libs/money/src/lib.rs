//! Money for Rapport: an ISO 4217 currency plus a whole number of its minor units (`i64`).
//!
//! Never floats. Every operation is checked: overflow, mixed currencies and amounts finer than
//! the minor unit are errors ([`MoneyError`]), never a wrap, a panic or silent rounding.
//! Splitting and allocation are exact (the parts add back to the whole), and the one rounding
//! rule, half-even ([`div_round_half_even`]), is what installment schedules use.
//!
//! ```
//! use rapport_money::{Currency, Money};
//!
//! let total = Money::from_decimal_str(Currency::EUR, "100.00")?;
//! let parts = total.split(3)?;
//! assert_eq!(parts[0].to_string(), "EUR 33.34");
//! assert_eq!(Money::checked_sum(Currency::EUR, parts)?, total);
//! # Ok::<(), rapport_money::MoneyError>(())
//! ```

mod currency;
mod decimal;
mod error;
mod iso4217;
mod locale;
mod money;
mod rounding;
mod split;

pub use currency::Currency;
pub use error::{MoneyError, Operation};
pub use locale::format_money;
pub use money::Money;
pub use rounding::div_round_half_even;
