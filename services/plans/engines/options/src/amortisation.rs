//! Level-payment (annuity) amortisation, to DESIGN.md's convention so that any two
//! implementations agree to the minor unit:
//!
//! - monthly rate r = nominal annual rate / 12;
//! - level payment A = P·r / (1 − (1 + r)^−n), rounded half-even to the minor unit
//!   (A = P / n, rounded half-even, when r = 0);
//! - each month's interest = opening balance × r, rounded half-even; principal = A − interest;
//! - the last installment = remaining balance + its interest, so the principal parts sum to P.
//!
//! Money is `i64` minor units of a currency the caller carries (JPY 0, EUR 2, KWD 3 decimals).
//! Everything is computed exactly in integers: r = annual / 12 is a fraction `a / b`, interest is
//! `balance·a / b` and the level payment a ratio of big integers (see `exact`), so rounding ties are
//! decided correctly and results never depend on a decimal type's precision.

mod exact;

use crate::rate::AnnualRate;
use exact::{BigNat, gcd, round_half_even_ratio, round_half_even_u128};

/// The longest schedule built (100 years). Not a lending policy — the options engine chooses real
/// terms — only a bound on work and memory for a caller-supplied month count.
pub const MAX_TERM_MONTHS: u32 = 1200;

/// Why a schedule could not be built; each message tells an API caller what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the number of months must be at least 1")]
    ZeroMonths,
    #[error("a schedule may have at most {max} months, not {months}")]
    TermTooLong { months: u32, max: u32 },
    #[error("the amount must not be negative")]
    NegativeAmount,
    #[error("the amount must be greater than zero")]
    ZeroAmount,
    #[error(
        "{months} months is too long for this amount: the monthly payment, rounded to the minor \
         unit, would be zero or repay the amount early; choose fewer months"
    )]
    TermTooLongForAmount { months: u32 },
    #[error(
        "the monthly payment of {payment} minor units does not cover month {month}'s interest of \
         {interest}; the balance would grow"
    )]
    PaymentDoesNotCoverInterest {
        month: u32,
        payment: i64,
        interest: i64,
    },
    #[error("the amounts are too large to schedule without overflow")]
    Overflow,
    #[error("the payday must be a day of the month from 1 to 31, not {payday}")]
    InvalidPayday { payday: i8 },
    #[error("the schedule would run past the last supported date, 9999-12-31")]
    DateOutOfRange,
}

/// One month of an amortisation schedule, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmortisationLine {
    /// What the customer pays this month: `principal + interest`.
    pub amount: i64,
    pub principal: i64,
    pub interest: i64,
    /// The balance still owed after this installment; zero after the last.
    pub balance_after: i64,
}

/// The level monthly payment for `principal` over `months` at `rate`, rounded half-even to the
/// minor unit (DESIGN.md's convention). May be zero for a tiny amount over a long term; `amortise`
/// refuses that case.
///
/// # Errors
/// `ZeroMonths`, `TermTooLong`, `NegativeAmount`, `ZeroAmount`, or `Overflow` when the payment
/// does not fit in `i64`.
pub fn level_payment(principal: i64, rate: &AnnualRate, months: u32) -> Result<i64, ScheduleError> {
    check_term(months)?;
    let principal = positive_amount(principal)?;
    let payment = match MonthlyRate::of(rate) {
        None => round_half_even_u128(u128::from(principal), u128::from(months)),
        Some(monthly) => monthly.annuity_payment(principal, months)?,
    };
    i64::try_from(payment).map_err(|_| ScheduleError::Overflow)
}

/// One month's interest on `balance`: balance × annual / 12, rounded half-even (DESIGN.md). The
/// division by 12 is exact, so 180 at 10 % a year is exactly 1.5 and rounds to 2, where a
/// truncated r = 0.0083… would give 1.4999… and round to 1.
///
/// # Errors
/// `NegativeAmount` for a negative balance.
pub fn monthly_interest(balance: i64, rate: &AnnualRate) -> Result<i64, ScheduleError> {
    let balance = u64::try_from(balance).map_err(|_| ScheduleError::NegativeAmount)?;
    let (numerator, scale) = rate.as_scaled_integer();
    // balance < 2^63 and numerator < 10^10, so the product fits in u128 (< 2^97).
    let interest = round_half_even_u128(
        u128::from(balance) * u128::from(numerator),
        12 * 10u128.pow(scale),
    );
    // Interest is below balance / 12 because the annual rate is below 1.
    i64::try_from(interest).map_err(|_| ScheduleError::Overflow)
}

/// The full schedule: `months` lines, every amount but the last equal to [`level_payment`], the
/// last absorbing the remainder; principal parts sum to `principal` exactly.
///
/// # Errors
/// As for [`level_payment`]; `TermTooLongForAmount` when the rounded payment is zero or would repay
/// the amount before the last month (a tiny amount over a long term); `Overflow` when the total
/// payable does not fit in `i64`.
pub fn amortise(
    principal: i64,
    rate: &AnnualRate,
    months: u32,
) -> Result<Vec<AmortisationLine>, ScheduleError> {
    let payment = level_payment(principal, rate, months)?;
    if payment == 0 {
        return Err(ScheduleError::TermTooLongForAmount { months });
    }
    let mut lines = Vec::with_capacity(usize::try_from(months).unwrap_or(0));
    let mut balance = principal;
    let mut total_payable: i64 = 0;
    for month in 1..=months {
        let line = if month == months {
            last_line(balance, rate)?
        } else {
            level_line(month, months, balance, payment, rate)?
        };
        // Checked so that `total_interest` and `schedule_total` of this schedule cannot overflow.
        total_payable = total_payable
            .checked_add(line.amount)
            .ok_or(ScheduleError::Overflow)?;
        balance = line.balance_after;
        lines.push(line);
    }
    Ok(lines)
}

/// The interest in a schedule. Saturates at the `i64` bounds rather than wrapping; a schedule from
/// [`amortise`] never gets there because its total payable is checked.
#[must_use]
pub fn total_interest(lines: &[AmortisationLine]) -> i64 {
    saturating_sum(lines.iter().map(|line| line.interest))
}

pub(crate) fn saturating_sum(values: impl Iterator<Item = i64>) -> i64 {
    let sum: i128 = values.map(i128::from).sum();
    i64::try_from(sum).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn check_term(months: u32) -> Result<(), ScheduleError> {
    match months {
        0 => Err(ScheduleError::ZeroMonths),
        months if months > MAX_TERM_MONTHS => Err(ScheduleError::TermTooLong {
            months,
            max: MAX_TERM_MONTHS,
        }),
        _ => Ok(()),
    }
}

pub(crate) fn positive_amount(amount: i64) -> Result<u64, ScheduleError> {
    match u64::try_from(amount) {
        Err(_) => Err(ScheduleError::NegativeAmount),
        Ok(0) => Err(ScheduleError::ZeroAmount),
        Ok(amount) => Ok(amount),
    }
}

fn level_line(
    month: u32,
    months: u32,
    balance: i64,
    payment: i64,
    rate: &AnnualRate,
) -> Result<AmortisationLine, ScheduleError> {
    let interest = monthly_interest(balance, rate)?;
    // Cannot happen with the formula's payment (it exceeds the first month's interest and the
    // balance never rises), but a schedule must never amortise negatively.
    let principal = payment - interest;
    if principal < 0 {
        return Err(ScheduleError::PaymentDoesNotCoverInterest {
            month,
            payment,
            interest,
        });
    }
    // Rounding the payment up can repay a tiny amount before the end; the convention then has no
    // valid last installment, so refuse rather than schedule zero or negative installments.
    if principal >= balance {
        return Err(ScheduleError::TermTooLongForAmount { months });
    }
    Ok(AmortisationLine {
        amount: payment,
        principal,
        interest,
        balance_after: balance - principal,
    })
}

fn last_line(balance: i64, rate: &AnnualRate) -> Result<AmortisationLine, ScheduleError> {
    let interest = monthly_interest(balance, rate)?;
    let amount = balance
        .checked_add(interest)
        .ok_or(ScheduleError::Overflow)?;
    Ok(AmortisationLine {
        amount,
        principal: balance,
        interest,
        balance_after: 0,
    })
}

/// r = annual / 12 as a reduced fraction `numerator / denominator`, with `numerator < denominator`.
#[derive(Debug, Clone, Copy)]
struct MonthlyRate {
    numerator: u64,
    denominator: u64,
}

impl MonthlyRate {
    /// `None` for a zero rate.
    fn of(rate: &AnnualRate) -> Option<Self> {
        let (numerator, scale) = rate.as_scaled_integer();
        if numerator == 0 {
            return None;
        }
        // scale <= 10, so 12·10^scale <= 1.2·10^11 fits in u64.
        let denominator = 12 * 10u64.pow(scale);
        let common = gcd(numerator, denominator);
        Some(Self {
            numerator: numerator / common,
            denominator: denominator / common,
        })
    }

    /// A = P·r·(1+r)^n / ((1+r)^n − 1) = P·a·(a+b)^n / (b·((a+b)^n − b^n)) for r = a/b, rounded
    /// half-even exactly.
    fn annuity_payment(self, principal: u64, months: u32) -> Result<u128, ScheduleError> {
        let Self {
            numerator: a,
            denominator: b,
        } = self;
        let grown = BigNat::pow(a + b, months);
        let base = BigNat::pow(b, months);
        let dividend = grown.times(a).times(principal);
        let divisor = grown.minus(&base).ok_or(ScheduleError::Overflow)?.times(b);
        // P·r < A <= P·(1 + r) (equal when n = 1), which brackets the binary search.
        let interest_only = u128::from(principal) * u128::from(a) / u128::from(b);
        let low = u64::try_from(interest_only).map_err(|_| ScheduleError::Overflow)?;
        let high = principal
            .checked_add(low)
            .and_then(|sum| sum.checked_add(1))
            .ok_or(ScheduleError::Overflow)?;
        Ok(round_half_even_ratio(&dividend, &divisor, low, high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate(text: &str) -> AnnualRate {
        AnnualRate::parse(text).expect("valid rate")
    }

    /// One row of the independent reference table.
    struct Reference {
        case: &'static str,
        principal: i64,
        rate: &'static str,
        months: u32,
        level_payment: i64,
        total_interest: i64,
        last_amount: i64,
    }

    /// Produced by `src/amortisation_reference.py` (run
    /// `python3 src/amortisation_reference.py`):
    /// Python's `decimal` at 50 significant digits with the literal formula
    /// `P·r / (1 − (1 + r)^−n)`, cross-checked by exact `fractions.Fraction` arithmetic, each
    /// month's interest rounded half-even and the last installment absorbing the remainder.
    /// Amounts are minor units; the currency's exponent is in the case name.
    const REFERENCE: &[Reference] = &[
        Reference {
            case: "EUR 10 000.00 at 12.99 % over 24 months",
            principal: 1_000_000,
            rate: "0.1299",
            months: 24,
            level_payment: 47_537,
            total_interest: 140_890,
            last_amount: 47_539,
        },
        Reference {
            case: "EUR 10 000.00 at 12.99 % over 60 months",
            principal: 1_000_000,
            rate: "0.1299",
            months: 60,
            level_payment: 22_748,
            total_interest: 364_877,
            last_amount: 22_745,
        },
        Reference {
            case: "JPY 1 500 000 at 1.8 % over 36 months",
            principal: 1_500_000,
            rate: "0.018",
            months: 36,
            level_payment: 42_833,
            total_interest: 41_986,
            last_amount: 42_831,
        },
        Reference {
            case: "KWD 2 500.750 at 7.5 % over 12 months",
            principal: 2_500_750,
            rate: "0.075",
            months: 12,
            level_payment: 216_959,
            total_interest: 102_754,
            last_amount: 216_955,
        },
        Reference {
            case: "EUR 10 000.00 at 0 % over 7 months",
            principal: 1_000_000,
            rate: "0",
            months: 7,
            level_payment: 142_857,
            total_interest: 0,
            last_amount: 142_858,
        },
        Reference {
            case: "EUR 50 000.00 at 99 % over 480 months",
            principal: 5_000_000,
            rate: "0.99",
            months: 480,
            level_payment: 412_500,
            total_interest: 198_000_000,
            last_amount: 5_412_500,
        },
        Reference {
            case: "EUR 0.01 at 12.99 % over 1 month",
            principal: 1,
            rate: "0.1299",
            months: 1,
            level_payment: 1,
            total_interest: 0,
            last_amount: 1,
        },
        Reference {
            case: "EUR 90 000 000.00 at 4.5 % over 360 months",
            principal: 9_000_000_000,
            rate: "0.045",
            months: 360,
            level_payment: 45_601_678,
            total_interest: 7_416_603_979,
            last_amount: 45_601_577,
        },
        Reference {
            case: "EUR 100.50 at 12 % over 2 months (exact tie 51.005)",
            principal: 10_050,
            rate: "0.12",
            months: 2,
            level_payment: 5_100,
            total_interest: 150,
            last_amount: 5_100,
        }, // exact tie
        Reference {
            case: "JPY 180 at 10 % over 1 month (ties in payment and interest)",
            principal: 180,
            rate: "0.1",
            months: 1,
            level_payment: 182,
            total_interest: 2,
            last_amount: 182,
        }, // exact tie
        Reference {
            case: "KWD 1 234.567 at 10 % over 18 months (r = 0.00833...)",
            principal: 1_234_567,
            rate: "0.1",
            months: 18,
            level_payment: 74_144,
            total_interest: 100_037,
            last_amount: 74_156,
        },
        Reference {
            case: "JPY 1 000 000 000 000 at 24.99 % over 480 months",
            principal: 1_000_000_000_000,
            rate: "0.2499",
            months: 480,
            level_payment: 20_826_051_924,
            total_interest: 8_996_504_563_077,
            last_amount: 20_825_691_481,
        },
        Reference {
            case: "KWD 750.125 at 33.33333333 % over 13 months (10 decimals)",
            principal: 750_125,
            rate: "0.3333333333",
            months: 13,
            level_payment: 69_535,
            total_interest: 153_833,
            last_amount: 69_538,
        },
        Reference {
            case: "EUR 1 234 567.89 at 0.00000001 % over 480 months",
            principal: 123_456_789,
            rate: "0.0000000001",
            months: 480,
            level_payment: 257_202,
            total_interest: 0,
            last_amount: 257_031,
        },
        Reference {
            case: "EUR 999.99 at 5.99 % over 120 months",
            principal: 99_999,
            rate: "0.0599",
            months: 120,
            level_payment: 1_110,
            total_interest: 33_155,
            last_amount: 1_064,
        },
        Reference {
            case: "JPY 123 456 at 29.9 % over 60 months",
            principal: 123_456,
            rate: "0.299",
            months: 60,
            level_payment: 3_987,
            total_interest: 115_718,
            last_amount: 3_941,
        },
    ];

    /// A case the convention cannot schedule: the rounded payment is zero or repays the amount
    /// before the last month. Same script; both implementations refuse it.
    struct Refused {
        case: &'static str,
        principal: i64,
        rate: &'static str,
        months: u32,
        level_payment: i64,
    }

    /// From `src/amortisation_reference.py`, as `REFERENCE`.
    const REFUSED: &[Refused] = &[
        Refused {
            case: "JPY 123 456 at 29.9 % over 240 months",
            principal: 123_456,
            rate: "0.299",
            months: 240,
            level_payment: 3_085,
        },
        Refused {
            case: "EUR 0.04 at 0 % over 6 months (0.67 rounds up to 1)",
            principal: 4,
            rate: "0",
            months: 6,
            level_payment: 1,
        },
        Refused {
            case: "EUR 0.01 at 0 % over 7 months (payment rounds to 0)",
            principal: 1,
            rate: "0",
            months: 7,
            level_payment: 0,
        },
    ];

    #[test]
    fn matches_the_independent_reference_table_to_the_minor_unit() {
        for row in REFERENCE {
            let annual = rate(row.rate);
            let payment = level_payment(row.principal, &annual, row.months).expect(row.case);
            assert_eq!(payment, row.level_payment, "level payment: {}", row.case);
            let lines = amortise(row.principal, &annual, row.months).expect(row.case);
            assert_eq!(
                total_interest(&lines),
                row.total_interest,
                "total interest: {}",
                row.case
            );
            let last = lines.last().expect(row.case);
            assert_eq!(
                last.amount, row.last_amount,
                "last installment: {}",
                row.case
            );
        }
        assert!(REFERENCE.len() >= 12);
    }

    #[test]
    fn refuses_the_reference_cases_the_convention_cannot_schedule() {
        for row in REFUSED {
            let annual = rate(row.rate);
            let payment = level_payment(row.principal, &annual, row.months).expect(row.case);
            assert_eq!(payment, row.level_payment, "level payment: {}", row.case);
            assert_eq!(
                amortise(row.principal, &annual, row.months),
                Err(ScheduleError::TermTooLongForAmount { months: row.months }),
                "{}",
                row.case
            );
        }
    }

    #[test]
    fn zero_rate_spreads_the_principal_evenly_with_half_even_rounding() {
        // 10 / 4 = 2.5 → 2 (half-even); the last installment takes 10 − 3·2 = 4.
        assert_eq!(level_payment(10, &AnnualRate::zero(), 4), Ok(2));
        let lines = amortise(10, &AnnualRate::zero(), 4).expect("schedule");
        let amounts: Vec<i64> = lines.iter().map(|line| line.amount).collect();
        assert_eq!(amounts, [2, 2, 2, 4]);
        assert_eq!(total_interest(&lines), 0);
        // 14 / 4 = 3.5 → 4 (half-even).
        assert_eq!(level_payment(14, &AnnualRate::zero(), 4), Ok(4));
    }

    #[test]
    fn one_month_repays_principal_plus_one_months_interest() {
        let lines = amortise(1_000_000, &rate("0.12"), 1).expect("schedule");
        assert_eq!(
            lines,
            [AmortisationLine {
                amount: 1_010_000,
                principal: 1_000_000,
                interest: 10_000,
                balance_after: 0
            }]
        );
    }

    #[test]
    fn exact_ties_round_half_even() {
        // EUR 100.50 at 12 % over 2 months: A is exactly 51.005 → 51.00, not 51.01.
        assert_eq!(level_payment(10_050, &rate("0.12"), 2), Ok(5_100));
        // 100.51 at the same terms is 51.01004975… → 51.01.
        assert_eq!(level_payment(10_051, &rate("0.12"), 2), Ok(5_101));
        // JPY 180 at 10 % for 1 month: A = 181.5 exactly → 182 (even).
        assert_eq!(level_payment(180, &rate("0.1"), 1), Ok(182));
    }

    #[test]
    fn interest_divides_by_twelve_exactly() {
        // 180 × 0.1 / 12 = 1.5 exactly → 2; a truncated 0.0083… would give 1.
        assert_eq!(monthly_interest(180, &rate("0.1")), Ok(2));
        // 60 × 0.1 / 12 = 0.5 → 0 (even).
        assert_eq!(monthly_interest(60, &rate("0.1")), Ok(0));
        assert_eq!(monthly_interest(0, &rate("0.1")), Ok(0));
        assert_eq!(
            monthly_interest(-1, &rate("0.1")),
            Err(ScheduleError::NegativeAmount)
        );
        assert_eq!(
            monthly_interest(i64::MAX, &rate("0.9999999999")).map(|i| i > 0),
            Ok(true)
        );
    }

    #[test]
    fn refuses_bad_input() {
        let annual = rate("0.1299");
        assert_eq!(
            level_payment(100, &annual, 0),
            Err(ScheduleError::ZeroMonths)
        );
        assert_eq!(amortise(100, &annual, 0), Err(ScheduleError::ZeroMonths));
        assert_eq!(
            amortise(-1, &annual, 12),
            Err(ScheduleError::NegativeAmount)
        );
        assert_eq!(amortise(0, &annual, 12), Err(ScheduleError::ZeroAmount));
        assert_eq!(
            amortise(100, &annual, MAX_TERM_MONTHS + 1),
            Err(ScheduleError::TermTooLong {
                months: MAX_TERM_MONTHS + 1,
                max: MAX_TERM_MONTHS
            })
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        assert_eq!(
            level_payment(i64::MAX, &rate("0.5"), 1),
            Err(ScheduleError::Overflow)
        );
        assert_eq!(
            amortise(i64::MAX, &rate("0.5"), 12),
            Err(ScheduleError::Overflow)
        );
        assert_eq!(
            level_payment(i64::MAX, &AnnualRate::zero(), 1),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn longest_term_at_the_highest_rate_completes() {
        let annual = rate("0.9999999999");
        let lines = amortise(1_000_000_000_000, &annual, MAX_TERM_MONTHS).expect("schedule");
        assert_eq!(lines.len(), MAX_TERM_MONTHS as usize);
        let principal: i64 = lines.iter().map(|line| line.principal).sum();
        assert_eq!(principal, 1_000_000_000_000);
    }

    #[test]
    fn total_interest_saturates_instead_of_wrapping() {
        let line = AmortisationLine {
            amount: 0,
            principal: 0,
            interest: i64::MAX,
            balance_after: 0,
        };
        assert_eq!(total_interest(&[line, line]), i64::MAX);
    }

    /// A rate in [0, 0.5) written with at most 6 decimals, as an API caller would send it.
    fn rate_text() -> impl Strategy<Value = String> {
        (0u32..500_000).prop_map(|millionths| format!("0.{millionths:06}"))
    }

    proptest! {
        #[test]
        fn schedules_sum_exactly(
            principal in 1i64..=1_000_000_000_000,
            rate_text in rate_text(),
            months in 1u32..=480,
        ) {
            let annual = rate(&rate_text);
            let payment = level_payment(principal, &annual, months).expect("level payment");
            let lines = match amortise(principal, &annual, months) {
                Ok(lines) => lines,
                // Only a tiny amount over a long term may be refused (documented on the error).
                Err(ScheduleError::TermTooLongForAmount { .. }) => return Ok(()),
                Err(other) => return Err(TestCaseError::fail(other.to_string())),
            };
            prop_assert_eq!(lines.len(), months as usize);
            let principal_sum: i64 = lines.iter().map(|line| line.principal).sum();
            let amount_sum: i64 = lines.iter().map(|line| line.amount).sum();
            prop_assert_eq!(principal_sum, principal);
            prop_assert_eq!(amount_sum, principal + total_interest(&lines));
            let (last, level) = lines.split_last().expect("at least one month");
            prop_assert!(level.iter().all(|line| line.amount == payment));
            prop_assert_eq!(last.balance_after, 0);
            for line in &lines {
                prop_assert!(line.amount >= 0 && line.principal >= 0);
                prop_assert!(line.interest >= 0 && line.balance_after >= 0);
                prop_assert_eq!(line.amount, line.principal + line.interest);
            }
        }
    }
}
