//! Tenure anniversaries: the days on which a customer completes another year with us.
//!
//! Dates are civil dates in the customer's own time zone (DESIGN: anniversaries follow the
//! customer's location), so a customer in Auckland is congratulated on their day, not ours.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// A tenure anniversary: on `date` the customer completes `tenure_years` years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Anniversary {
    pub date: Date,
    pub tenure_years: i32,
}

/// The day in `year` on which tenure that began on `since` has its anniversary.
///
/// A customer who joined on 29 February celebrates on 28 February in common years, so the
/// anniversary stays in the month they joined and comes once a year. `None` for the joining
/// year and earlier, and for years outside the calendar jiff supports.
pub fn anniversary_in_year(since: Date, year: i16) -> Option<Date> {
    if year <= since.year() {
        return None;
    }
    let days_in_month = Date::new(year, since.month(), 1).ok()?.days_in_month();
    Date::new(year, since.month(), since.day().min(days_in_month)).ok()
}

/// Every anniversary with `from <= date <= to`, ascending; empty when `from > to`.
///
/// The joining day itself is not an anniversary: the first is one year later.
pub fn anniversaries_between(since: Date, from: Date, to: Date) -> Vec<Anniversary> {
    if from > to {
        return Vec::new();
    }
    // An anniversary in year y falls in y itself, so only the years of the range can hold one.
    let first_year = from.year().max(since.year().saturating_add(1));
    (first_year..=to.year())
        .filter_map(|year| {
            let date = anniversary_in_year(since, year)?;
            (from <= date && date <= to).then(|| Anniversary {
                date,
                tenure_years: i32::from(year) - i32::from(since.year()),
            })
        })
        .collect()
}

/// Whole years completed between `since` and `on` (the tests check anniversaries against it): 0 until the first anniversary (and for
/// `on` before `since`). A 29 February start completes a year on 28 February of common years.
#[cfg(test)]
pub fn whole_years_of_tenure(since: Date, on: Date) -> i32 {
    let years = i32::from(on.year()) - i32::from(since.year());
    match anniversary_in_year(since, on.year()) {
        Some(anniversary) if anniversary <= on => years,
        Some(_) => years - 1,
        None => 0,
    }
}

/// The customer's calendar date at the instant `now`, in their time zone.
pub fn today_in(zone: &TimeZone, now: Timestamp) -> Date {
    zone.to_datetime(now).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn a_leap_day_start_celebrates_on_28_february_in_common_years() {
        let since = date(2020, 2, 29);
        assert_eq!(anniversary_in_year(since, 2021), Some(date(2021, 2, 28)));
        assert_eq!(anniversary_in_year(since, 2024), Some(date(2024, 2, 29)));
        assert_eq!(anniversary_in_year(since, 2025), Some(date(2025, 2, 28)));
        assert_eq!(whole_years_of_tenure(since, date(2021, 2, 27)), 0);
        assert_eq!(whole_years_of_tenure(since, date(2021, 2, 28)), 1);
        assert_eq!(whole_years_of_tenure(since, date(2024, 2, 28)), 3);
        assert_eq!(whole_years_of_tenure(since, date(2024, 2, 29)), 4);
        assert_eq!(whole_years_of_tenure(since, date(2025, 2, 28)), 5);
    }

    #[test]
    fn a_leap_day_start_lists_one_anniversary_per_year_with_its_years() {
        let found = anniversaries_between(date(2020, 2, 29), date(2020, 1, 1), date(2025, 12, 31));
        let expected = [
            (date(2021, 2, 28), 1),
            (date(2022, 2, 28), 2),
            (date(2023, 2, 28), 3),
            (date(2024, 2, 29), 4),
            (date(2025, 2, 28), 5),
        ]
        .map(|(date, tenure_years)| Anniversary { date, tenure_years });
        assert_eq!(found, expected);
    }

    #[test]
    fn no_anniversary_in_or_before_the_joining_year() {
        let since = date(2019, 1, 2);
        assert_eq!(anniversary_in_year(since, 2019), None);
        assert_eq!(anniversary_in_year(since, 2018), None);
        assert_eq!(anniversary_in_year(since, 2020), Some(date(2020, 1, 2)));
    }

    #[test]
    fn years_outside_the_calendar_have_no_anniversary() {
        assert_eq!(anniversary_in_year(date(2019, 1, 2), i16::MAX), None);
        assert_eq!(anniversary_in_year(date(9999, 1, 2), 9999), None);
    }

    #[test]
    fn a_range_crossing_the_year_end_finds_the_january_anniversary() {
        let found = anniversaries_between(date(2019, 1, 2), date(2025, 12, 15), date(2026, 1, 15));
        assert_eq!(
            found,
            [Anniversary {
                date: date(2026, 1, 2),
                tenure_years: 7
            }]
        );
    }

    #[test]
    fn the_joining_day_is_not_an_anniversary() {
        let since = date(2019, 1, 2);
        assert!(anniversaries_between(since, since, since).is_empty());
        assert!(anniversaries_between(since, date(2018, 1, 1), date(2019, 12, 31)).is_empty());
        assert_eq!(whole_years_of_tenure(since, since), 0);
    }

    #[test]
    fn range_bounds_are_inclusive() {
        let since = date(2019, 6, 10);
        let day = date(2024, 6, 10);
        let found = anniversaries_between(since, day, day);
        assert_eq!(
            found,
            [Anniversary {
                date: day,
                tenure_years: 5
            }]
        );
    }

    #[test]
    fn an_inverted_range_is_empty() {
        let found = anniversaries_between(date(2019, 1, 2), date(2026, 1, 15), date(2025, 12, 15));
        assert!(found.is_empty());
    }

    #[test]
    fn tenure_before_joining_is_zero() {
        assert_eq!(whole_years_of_tenure(date(2019, 1, 2), date(2010, 5, 5)), 0);
        assert_eq!(whole_years_of_tenure(date(2019, 1, 2), date(2019, 1, 1)), 0);
    }

    #[test]
    fn today_depends_on_the_customers_time_zone() {
        let auckland = TimeZone::get("Pacific/Auckland").expect("bundled zone");
        let los_angeles = TimeZone::get("America/Los_Angeles").expect("bundled zone");
        let now: Timestamp = "2026-01-01T20:00:00Z".parse().expect("valid instant");
        assert_eq!(today_in(&auckland, now), date(2026, 1, 2));
        assert_eq!(today_in(&los_angeles, now), date(2026, 1, 1));
        assert_eq!(today_in(&TimeZone::UTC, now), date(2026, 1, 1));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        let ordinary = (1990i16..2040, 1i8..=12, 1i8..=31).prop_map(|(year, month, day)| {
            let first = date(year, month, 1);
            date(year, month, day.min(first.days_in_month()))
        });
        // Leap days are rare among random dates; make sure they are exercised.
        let leap_day = (1990i16..2040)
            .prop_map(|year| year - year % 4)
            .prop_filter("in range", |year| *year >= 1990)
            .prop_map(|year| date(year, 2, 29));
        prop_oneof![4 => ordinary, 1 => leap_day]
    }

    proptest! {
        #[test]
        fn anniversaries_between_agrees_with_anniversary_in_year_and_tenure(
            since in any_date(),
            from in any_date(),
            to in any_date(),
        ) {
            let found = anniversaries_between(since, from, to);

            for anniversary in &found {
                prop_assert!(from <= anniversary.date && anniversary.date <= to);
                prop_assert!(anniversary.tenure_years >= 1);
                prop_assert_eq!(
                    whole_years_of_tenure(since, anniversary.date),
                    anniversary.tenure_years
                );
                // The day before an anniversary is still the previous year of tenure.
                let day_before = anniversary.date.yesterday().expect("in range");
                prop_assert_eq!(
                    whole_years_of_tenure(since, day_before),
                    anniversary.tenure_years - 1
                );
            }
            prop_assert!(found.windows(2).all(|pair| pair[0].date < pair[1].date));

            let expected = (1980i16..=2050)
                .filter_map(|year| anniversary_in_year(since, year))
                .filter(|date| from <= *date && *date <= to)
                .count();
            prop_assert_eq!(found.len(), expected);
        }
    }
}
