//! Installment schedules on the customer's chosen payday.
//!
//! DESIGN.md "Plans": schedules fall on the customer's chosen payday, so a plan is paid when the
//! money arrives rather than when the bank's cycle says. "Money and time": the sum of a schedule
//! equals its total exactly; the last installment absorbs the remainder.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::amortisation::{ScheduleError, amortise, check_term, monthly_interest};
use crate::rate::AnnualRate;

/// One installment of a plan, in minor units of the plan's currency: one row of a true schedule,
/// so `closing_balance = opening_balance − principal` and the next row opens where this one
/// closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installment {
    /// 1 for the first installment, counting up by one.
    pub sequence: u32,
    pub due_date: Date,
    /// Owed before this installment.
    pub opening_balance: i64,
    /// `principal + interest`.
    pub amount: i64,
    /// What the installment takes off the balance.
    pub principal: i64,
    /// `opening_balance × r`, half-even (DESIGN.md); 0 while interest is frozen.
    pub interest: i64,
    /// Owed after this installment: 0 only once the debt is paid off.
    pub closing_balance: i64,
}

/// `months` due dates, one a month, on `payday` — clamped to the month's last day, so payday 31
/// falls on 30 April and on 28 or 29 February. The first is the first payday on or after
/// `first_on_or_after`. Each date is computed from its own month, so a clamped February does not
/// drag later months to the 28th.
///
/// # Errors
/// `InvalidPayday` outside 1..=31, `ZeroMonths`, `TermTooLong`, or `DateOutOfRange` past
/// 9999-12-31.
pub fn payday_dates(
    first_on_or_after: Date,
    payday: i8,
    months: u32,
) -> Result<Vec<Date>, ScheduleError> {
    check_term(months)?;
    check_payday(payday)?;
    let mut month = CalendarMonth::of(first_on_or_after);
    if month.payday(payday)? < first_on_or_after {
        month = month.next()?;
    }
    let mut dates = Vec::with_capacity(usize::try_from(months).unwrap_or(0));
    for index in 0..months {
        if index > 0 {
            month = month.next()?;
        }
        dates.push(month.payday(payday)?);
    }
    Ok(dates)
}

/// A re-amortised annuity (term extension, payment holiday) on the customer's payday: the lines
/// of [`amortise`] with due dates from [`payday_dates`]. Pays `principal` off.
///
/// # Errors
/// As for [`amortise`] and [`payday_dates`].
pub fn annuity_installments(
    principal: i64,
    rate: &AnnualRate,
    months: u32,
    first_on_or_after: Date,
    payday: i8,
) -> Result<Vec<Installment>, ScheduleError> {
    let dates = payday_dates(first_on_or_after, payday, months)?;
    let lines = amortise(principal, rate, months)?;
    Ok(dates
        .into_iter()
        .zip(lines)
        .zip(1..)
        .map(|((due_date, line), sequence)| Installment {
            sequence,
            due_date,
            // `amortise` checked the total, so the balance before each line fits.
            opening_balance: line.balance_after + line.principal,
            amount: line.amount,
            principal: line.principal,
            interest: line.interest,
            closing_balance: line.balance_after,
        })
        .collect())
}

/// `total` in `months` interest-free installments (a reduced payment with interest frozen):
/// DESIGN.md's convention at r = 0, so the level part is `total / months` rounded half-even and
/// the last absorbs the remainder (it may be a little smaller or larger); the schedule sums to
/// `total` exactly.
///
/// # Errors
/// As for [`annuity_installments`]; `TermTooLongForAmount` when the rounded part is zero or would
/// repay `total` before the last month (`total` small against `months`).
pub fn equal_installments(
    total: i64,
    months: u32,
    first_on_or_after: Date,
    payday: i8,
) -> Result<Vec<Installment>, ScheduleError> {
    annuity_installments(
        total,
        &AnnualRate::zero(),
        months,
        first_on_or_after,
        payday,
    )
}

/// Given payments, on the given dates, against `balance`, which bears interest at `rate`
/// (DESIGN.md: each month's interest = opening balance × r, half-even; principal = payment −
/// interest). A payment that would clear the balance is cut to what is owed (balance plus its
/// interest) and the schedule ends there, closing at 0. Otherwise what the payments leave stays
/// in the last closing balance; with `clear_at_end` the last payment is instead what is owed
/// (the convention's last installment: remaining balance plus its interest).
///
/// # Errors
/// `NegativeAmount` for a negative balance or payment; `PaymentDoesNotCoverInterest` when a
/// payment is below its month's interest (the balance would grow); `Overflow`.
pub fn paid_installments(
    balance: i64,
    rate: &AnnualRate,
    payments: &[(Date, i64)],
    clear_at_end: bool,
) -> Result<Vec<Installment>, ScheduleError> {
    let mut installments = Vec::with_capacity(payments.len());
    let mut opening = balance;
    let count = payments.len();
    for ((index, &(due_date, payment)), sequence) in payments.iter().enumerate().zip(1_u32..) {
        if payment < 0 {
            return Err(ScheduleError::NegativeAmount);
        }
        let interest = monthly_interest(opening, rate)?;
        let owed = opening
            .checked_add(interest)
            .ok_or(ScheduleError::Overflow)?;
        if owed <= payment || (clear_at_end && index + 1 == count) {
            installments.push(Installment {
                sequence,
                due_date,
                opening_balance: opening,
                amount: owed,
                principal: opening,
                interest,
                closing_balance: 0,
            });
            break;
        }
        if payment < interest {
            return Err(ScheduleError::PaymentDoesNotCoverInterest {
                month: sequence,
                payment,
                interest,
            });
        }
        // interest ≤ payment < opening + interest, so 0 ≤ principal < opening.
        let principal = payment - interest;
        installments.push(Installment {
            sequence,
            due_date,
            opening_balance: opening,
            amount: payment,
            principal,
            interest,
            closing_balance: opening - principal,
        });
        opening -= principal;
    }
    Ok(installments)
}

/// What a schedule asks the customer to pay in all. Saturates at the `i64` bounds rather than
/// wrapping; schedules built here never get there because their totals are checked.
#[must_use]
#[cfg(test)]
pub fn schedule_total(installments: &[Installment]) -> i64 {
    use crate::amortisation::saturating_sum;
    saturating_sum(installments.iter().map(|installment| installment.amount))
}

/// Today on the customer's calendar, in their IANA time zone: the date a schedule starts from and
/// that judges a missed installment, so a payday is the customer's day from their midnight to
/// their midnight, whatever UTC says (DESIGN.md "Money and time").
#[must_use]
pub fn customer_today(now: Timestamp, zone: &TimeZone) -> Date {
    now.to_zoned(zone.clone()).date()
}

fn check_payday(payday: i8) -> Result<(), ScheduleError> {
    if (1..=31).contains(&payday) {
        Ok(())
    } else {
        Err(ScheduleError::InvalidPayday { payday })
    }
}

/// A year and month, stepped one month at a time.
#[derive(Debug, Clone, Copy)]
struct CalendarMonth {
    year: i16,
    month: i8,
}

impl CalendarMonth {
    fn of(date: Date) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    fn next(self) -> Result<Self, ScheduleError> {
        if self.month == 12 {
            let year = self
                .year
                .checked_add(1)
                .ok_or(ScheduleError::DateOutOfRange)?;
            Ok(Self { year, month: 1 })
        } else {
            Ok(Self {
                year: self.year,
                month: self.month + 1,
            })
        }
    }

    /// The payday in this month, clamped to its last day.
    fn payday(self, payday: i8) -> Result<Date, ScheduleError> {
        let first =
            Date::new(self.year, self.month, 1).map_err(|_| ScheduleError::DateOutOfRange)?;
        let day = payday.min(first.days_in_month());
        Date::new(self.year, self.month, day).map_err(|_| ScheduleError::DateOutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn payday_31_clamps_to_the_end_of_february_in_a_leap_year() {
        let dates = payday_dates(date(2024, 1, 31), 31, 4).expect("dates");
        assert_eq!(
            dates,
            [
                date(2024, 1, 31),
                date(2024, 2, 29),
                date(2024, 3, 31),
                date(2024, 4, 30)
            ]
        );
    }

    #[test]
    fn payday_31_clamps_to_the_end_of_february_in_a_common_year() {
        let dates = payday_dates(date(2025, 1, 15), 31, 3).expect("dates");
        assert_eq!(
            dates,
            [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
        );
    }

    #[test]
    fn payday_29_falls_on_the_28th_of_a_common_february_only() {
        let common = payday_dates(date(2025, 2, 1), 29, 2).expect("dates");
        assert_eq!(common, [date(2025, 2, 28), date(2025, 3, 29)]);
        let leap = payday_dates(date(2024, 2, 1), 29, 2).expect("dates");
        assert_eq!(leap, [date(2024, 2, 29), date(2024, 3, 29)]);
    }

    #[test]
    fn starts_next_month_when_this_months_payday_has_passed() {
        let dates = payday_dates(date(2025, 3, 16), 15, 2).expect("dates");
        assert_eq!(dates, [date(2025, 4, 15), date(2025, 5, 15)]);
    }

    #[test]
    fn starts_the_same_day_when_it_is_the_payday() {
        let dates = payday_dates(date(2025, 3, 15), 15, 1).expect("dates");
        assert_eq!(dates, [date(2025, 3, 15)]);
    }

    #[test]
    fn a_clamped_payday_that_has_passed_moves_to_next_month() {
        // Payday 30 falls on 28 Feb 2025: due that day when the plan starts then, and on
        // 30 March when it starts on 1 March.
        assert_eq!(
            payday_dates(date(2025, 2, 28), 30, 1).expect("dates"),
            [date(2025, 2, 28)]
        );
        assert_eq!(
            payday_dates(date(2025, 3, 1), 30, 1).expect("dates"),
            [date(2025, 3, 30)]
        );
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).expect("in the bundled tz database")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("instant")
    }

    #[test]
    fn the_customers_day_ends_at_their_midnight_across_the_change_to_summer_time() {
        // London moves to BST at 01:00 UTC on Sunday 29 March 2026.
        let london = zone("Europe/London");
        assert_eq!(
            customer_today(at("2026-03-28T23:30:00Z"), &london),
            date(2026, 3, 28)
        );
        assert_eq!(
            customer_today(at("2026-03-29T00:30:00Z"), &london),
            date(2026, 3, 29)
        );
        assert_eq!(
            customer_today(at("2026-03-29T22:59:00Z"), &london),
            date(2026, 3, 29)
        );
        assert_eq!(
            customer_today(at("2026-03-29T23:00:00Z"), &london),
            date(2026, 3, 30)
        );
        // Back to GMT at 01:00 UTC on 25 October 2026: midnight is 00:00 UTC again.
        assert_eq!(
            customer_today(at("2026-10-25T23:30:00Z"), &london),
            date(2026, 10, 25)
        );
    }

    #[test]
    fn a_payday_31_schedule_starts_on_the_customers_last_day_of_april() {
        // 20:00 on 30 April in Los Angeles is 03:00 on 1 May in UTC.
        let today = customer_today(at("2026-05-01T03:00:00Z"), &zone("America/Los_Angeles"));
        assert_eq!(today, date(2026, 4, 30));
        assert_eq!(
            payday_dates(today, 31, 3).expect("dates"),
            [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]
        );
        let utc_today = customer_today(at("2026-05-01T03:00:00Z"), &TimeZone::UTC);
        assert_eq!(
            payday_dates(utc_today, 31, 1).expect("dates"),
            [date(2026, 5, 31)]
        );
    }

    #[test]
    fn payday_29_of_a_leap_year_is_the_customers_29_february() {
        let auckland = zone("Pacific/Auckland");
        // 00:30 on 29 February 2028 in Auckland (NZDT, UTC+13), still the 28th in UTC.
        let today = customer_today(at("2028-02-28T11:30:00Z"), &auckland);
        assert_eq!(today, date(2028, 2, 29));
        assert_eq!(
            payday_dates(today, 29, 2).expect("dates"),
            [date(2028, 2, 29), date(2028, 3, 29)]
        );
        // 00:30 on 1 March in Auckland while UTC is on the 29th: February's payday has passed.
        let next_day = customer_today(at("2028-02-29T11:30:00Z"), &auckland);
        assert_eq!(next_day, date(2028, 3, 1));
        assert_eq!(
            payday_dates(next_day, 29, 1).expect("dates"),
            [date(2028, 3, 29)]
        );
    }

    #[test]
    fn crosses_the_year_end() {
        let dates = payday_dates(date(2025, 12, 20), 5, 2).expect("dates");
        assert_eq!(dates, [date(2026, 1, 5), date(2026, 2, 5)]);
    }

    #[test]
    fn refuses_bad_paydays_terms_and_dates() {
        for payday in [0, 32, -1, i8::MIN, i8::MAX] {
            assert_eq!(
                payday_dates(date(2025, 1, 1), payday, 1),
                Err(ScheduleError::InvalidPayday { payday })
            );
        }
        assert_eq!(
            payday_dates(date(2025, 1, 1), 1, 0),
            Err(ScheduleError::ZeroMonths)
        );
        assert_eq!(
            payday_dates(date(9999, 11, 1), 1, 2),
            Ok(vec![date(9999, 11, 1), date(9999, 12, 1)])
        );
        assert_eq!(
            payday_dates(date(9999, 11, 1), 1, 3),
            Err(ScheduleError::DateOutOfRange)
        );
        assert_eq!(
            payday_dates(date(9999, 12, 2), 1, 1),
            Err(ScheduleError::DateOutOfRange)
        );
    }

    #[test]
    fn equal_installments_put_the_remainder_last() {
        let plan = equal_installments(1_000, 3, date(2025, 1, 1), 10).expect("plan");
        let amounts: Vec<i64> = plan.iter().map(|installment| installment.amount).collect();
        assert_eq!(amounts, [333, 333, 334]);
        assert_eq!(plan[0].due_date, date(2025, 1, 10));
        assert_eq!(plan[2].sequence, 3);
        assert_eq!(schedule_total(&plan), 1_000);
        assert!(plan.iter().all(|installment| installment.interest == 0));
    }

    #[test]
    fn equal_installments_round_half_even_and_the_last_may_be_smaller() {
        // DESIGN.md at r = 0: EUR 10,000.00 over 24 months is 416.666… → 416.67 (not 416.66),
        // and the last is 10,000.00 − 23 × 416.67 = 416.59.
        let eur = equal_installments(1_000_000, 24, date(2025, 1, 1), 1).expect("plan");
        assert_eq!((eur[0].amount, eur[23].amount), (41_667, 41_659));
        // KWD 5,000.000 over 36 months: 138.888… → 138.889; the last 5,000.000 − 35 × 138.889.
        let kwd = equal_installments(5_000_000, 36, date(2025, 1, 1), 1).expect("plan");
        assert_eq!((kwd[0].amount, kwd[35].amount), (138_889, 138_885));
        assert_eq!(schedule_total(&kwd), 5_000_000);
        assert_eq!(
            (kwd[0].opening_balance, kwd[0].closing_balance),
            (5_000_000, 5_000_000 - 138_889)
        );
        assert_eq!(kwd[35].closing_balance, 0);
    }

    #[test]
    fn paid_installments_leave_what_the_payments_do_not_cover() {
        // 1,000.00 at 12 % a year (1 % a month), 300.00 a month for two months.
        let rate = AnnualRate::parse("0.12").expect("rate");
        let payments = [(date(2025, 1, 28), 30_000), (date(2025, 2, 28), 30_000)];
        let plan = paid_installments(100_000, &rate, &payments, false).expect("plan");
        let rows: Vec<(i64, i64, i64, i64, i64)> = plan
            .iter()
            .map(|i| {
                (
                    i.opening_balance,
                    i.amount,
                    i.interest,
                    i.principal,
                    i.closing_balance,
                )
            })
            .collect();
        // 1 % of 1,000.00 is 10.00; 1 % of 710.00 is 7.10.
        assert_eq!(
            rows,
            [
                (100_000, 30_000, 1_000, 29_000, 71_000),
                (71_000, 30_000, 710, 29_290, 41_710)
            ]
        );
        // Clearing at the end: the last payment is what is owed, 710.00 + 7.10.
        let cleared = paid_installments(100_000, &rate, &payments, true).expect("plan");
        assert_eq!(cleared[1].amount, 71_710);
        assert_eq!(cleared[1].closing_balance, 0);
        // A payment that would clear the balance is cut to what is owed and ends the schedule.
        let early = paid_installments(20_000, &rate, &payments, false).expect("plan");
        assert_eq!(early.len(), 1);
        assert_eq!((early[0].amount, early[0].closing_balance), (20_200, 0));
        // A payment below the month's interest would let the balance grow.
        assert_eq!(
            paid_installments(100_000, &rate, &[(date(2025, 1, 28), 999)], false),
            Err(ScheduleError::PaymentDoesNotCoverInterest {
                month: 1,
                payment: 999,
                interest: 1_000
            })
        );
    }

    #[test]
    fn equal_installments_refuse_bad_amounts() {
        let start = date(2025, 1, 1);
        assert_eq!(
            equal_installments(0, 3, start, 1),
            Err(ScheduleError::ZeroAmount)
        );
        assert_eq!(
            equal_installments(-5, 3, start, 1),
            Err(ScheduleError::NegativeAmount)
        );
        assert_eq!(
            equal_installments(2, 3, start, 1),
            Err(ScheduleError::TermTooLongForAmount { months: 3 })
        );
        assert_eq!(
            equal_installments(3, 3, start, 1).map(|plan| plan.len()),
            Ok(3)
        );
        let largest = equal_installments(i64::MAX, 7, start, 1).expect("plan");
        assert_eq!(schedule_total(&largest), i64::MAX);
    }

    #[test]
    fn annuity_installments_carry_dates_and_split() {
        let rate = AnnualRate::parse("0.1299").expect("rate");
        let plan = annuity_installments(1_000_000, &rate, 24, date(2025, 1, 20), 31).expect("plan");
        assert_eq!(plan.len(), 24);
        assert_eq!(plan[0].sequence, 1);
        assert_eq!(plan[0].due_date, date(2025, 1, 31));
        assert_eq!(plan[1].due_date, date(2025, 2, 28));
        // Values from the reference table in `amortisation`.
        assert_eq!(plan[0].amount, 47_537);
        assert_eq!(plan[23].amount, 47_539);
        assert_eq!(schedule_total(&plan), 1_000_000 + 140_890);
    }

    fn start_date() -> impl Strategy<Value = Date> {
        (1990i16..=2100, 1i8..=12, 1i8..=31).prop_map(|(year, month, day)| {
            let first = date(year, month, 1);
            date(year, month, day.min(first.days_in_month()))
        })
    }

    proptest! {
        #[test]
        fn equal_installments_sum_exactly(
            total in 1i64..=1_000_000_000_000,
            months in 1u32..=480,
            start in start_date(),
            payday in 1i8..=31,
        ) {
            let plan = match equal_installments(total, months, start, payday) {
                Ok(plan) => plan,
                // Only an amount small against the term: the rounded part is zero or repays it
                // early, which needs part ≥ total / (months − 1) with part ≤ total / months + ½,
                // so total ≤ months·(months − 1) / 2.
                Err(ScheduleError::TermTooLongForAmount { .. }) => {
                    let months = i64::from(months);
                    prop_assert!(2 * total <= months * (months - 1));
                    return Ok(());
                }
                Err(other) => return Err(TestCaseError::fail(other.to_string())),
            };
            prop_assert_eq!(plan.len(), months as usize);
            prop_assert_eq!(schedule_total(&plan), total);
            let (last, rest) = plan.split_last().expect("at least one");
            let part = plan[0].amount;
            prop_assert!(rest.iter().all(|installment| installment.amount == part));
            // Half-even: the part is within half a minor unit of total / months, so the last
            // differs from it by at most months / 2.
            let twice_error = (2 * i128::from(part) * i128::from(months) - 2 * i128::from(total)).abs();
            prop_assert!(twice_error <= i128::from(months));
            prop_assert!((last.amount - part).abs() * 2 <= i64::from(months));
            prop_assert_eq!(plan[0].opening_balance, total);
            prop_assert_eq!(last.closing_balance, 0);
            for pair in plan.windows(2) {
                prop_assert_eq!(pair[1].opening_balance, pair[0].closing_balance);
            }
        }

        #[test]
        fn annuity_installments_sum_to_principal_plus_interest(
            principal in 1i64..=1_000_000_000_000,
            millionths in 0u32..500_000,
            months in 1u32..=480,
            start in start_date(),
            payday in 1i8..=31,
        ) {
            let rate = AnnualRate::parse(&format!("0.{millionths:06}")).expect("rate");
            let plan = match annuity_installments(principal, &rate, months, start, payday) {
                Ok(plan) => plan,
                Err(ScheduleError::TermTooLongForAmount { .. }) => return Ok(()),
                Err(other) => return Err(TestCaseError::fail(other.to_string())),
            };
            let interest: i64 = plan.iter().map(|installment| installment.interest).sum();
            let principal_sum: i64 = plan.iter().map(|installment| installment.principal).sum();
            prop_assert_eq!(principal_sum, principal);
            prop_assert_eq!(schedule_total(&plan), principal + interest);
            prop_assert!(plan[0].due_date >= start);
            for pair in plan.windows(2) {
                prop_assert!(pair[0].due_date < pair[1].due_date);
                prop_assert_eq!(pair[1].sequence, pair[0].sequence + 1);
            }
            for installment in &plan {
                let day = installment.due_date.day();
                prop_assert!(day == payday || (day < payday && installment.due_date.last_of_month() == installment.due_date));
            }
        }
    }
}
