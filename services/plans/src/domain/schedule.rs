//! Installment schedules on the customer's chosen payday.
//!
//! DESIGN.md "Plans": schedules fall on the customer's chosen payday, so a plan is paid when the
//! money arrives rather than when the bank's cycle says. "Money and time": the sum of a schedule
//! equals its total exactly; the last installment absorbs the remainder.

use jiff::civil::Date;

use crate::domain::amortisation::{ScheduleError, amortise, check_term, positive_amount};
use crate::domain::rate::AnnualRate;

/// One installment of a plan, in minor units of the plan's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installment {
    /// 1 for the first installment, counting up by one.
    pub sequence: u32,
    pub due_date: Date,
    /// `principal + interest`.
    pub amount: i64,
    pub principal: i64,
    pub interest: i64,
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

/// A re-amortised annuity (term extension) on the customer's payday: the lines of
/// [`amortise`] with due dates from [`payday_dates`].
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
            amount: line.amount,
            principal: line.principal,
            interest: line.interest,
        })
        .collect())
}

/// `total` in `months` interest-free installments (catch-up plans, frozen balances): equal parts
/// rounded down, the last absorbing the remainder (DESIGN.md), so it exceeds the others by at most
/// `months − 1` minor units and the schedule sums to `total` exactly.
///
/// # Errors
/// `NegativeAmount`, `ZeroAmount`, `ZeroMonths`, `TermTooLong`, `InvalidPayday`, `DateOutOfRange`;
/// `TermTooLongForAmount` when `total < months`, which would make every part but the last zero.
pub fn equal_installments(
    total: i64,
    months: u32,
    first_on_or_after: Date,
    payday: i8,
) -> Result<Vec<Installment>, ScheduleError> {
    let dates = payday_dates(first_on_or_after, payday, months)?;
    let whole = positive_amount(total)?;
    let part = whole / u64::from(months);
    if part == 0 {
        return Err(ScheduleError::TermTooLongForAmount { months });
    }
    // part·(months − 1) < total, so the remainder is positive and everything fits in i64.
    let last = whole - part * u64::from(months - 1);
    let amount_of = |sequence: u32| if sequence == months { last } else { part };
    dates
        .into_iter()
        .zip(1..)
        .map(|(due_date, sequence)| {
            let amount = i64::try_from(amount_of(sequence)).map_err(|_| ScheduleError::Overflow)?;
            Ok(Installment {
                sequence,
                due_date,
                amount,
                principal: amount,
                interest: 0,
            })
        })
        .collect()
}

/// What a schedule asks the customer to pay in all. Saturates at the `i64` bounds rather than
/// wrapping; schedules built here never get there because their totals are checked.
#[must_use]
#[cfg(test)]
pub fn schedule_total(installments: &[Installment]) -> i64 {
    use crate::domain::amortisation::saturating_sum;
    saturating_sum(installments.iter().map(|installment| installment.amount))
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
            prop_assume!(total >= i64::from(months));
            let plan = equal_installments(total, months, start, payday).expect("plan");
            prop_assert_eq!(plan.len(), months as usize);
            prop_assert_eq!(schedule_total(&plan), total);
            let (last, rest) = plan.split_last().expect("at least one");
            let part = plan[0].amount;
            prop_assert!(rest.iter().all(|installment| installment.amount == part));
            prop_assert!(last.amount >= part && last.amount - part < i64::from(months));
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
