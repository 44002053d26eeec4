//! Public holiday calendars, computed for the year asked from the rules as enacted, plus a dated
//! list of one-off holidays. A calendar knows its source and its coverage, and says so: for a
//! date it does not cover it answers "not covered", never "not a holiday" (issue 17: the Irish
//! calendar used to stop at 2027 and then called St Patrick's Day an ordinary day).

use jiff::civil::{Date, Weekday, date};

/// How a holiday's date is found in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRule {
    /// The same date every year.
    Fixed { month: i8, day: i8 },
    /// The `nth` `weekday` of `month`; a negative `nth` counts back from the month's end.
    NthWeekday {
        month: i8,
        nth: i8,
        weekday: Weekday,
    },
    /// This many days after Western (Gregorian) Easter Sunday; 1 is Easter Monday.
    AfterEaster { days: i8 },
    /// The 1st of `month` when that is a Friday, otherwise the first Monday of `month`
    /// (Ireland's St Brigid's Day).
    FridayFirstOrFirstMonday { month: i8 },
}

impl DayRule {
    /// The date this rule gives in `year`; `None` only at the edges of the representable years.
    pub fn in_year(self, year: i16) -> Option<Date> {
        match self {
            Self::Fixed { month, day } => Date::new(year, month, day).ok(),
            Self::NthWeekday {
                month,
                nth,
                weekday,
            } => Date::new(year, month, 1)
                .and_then(|first| first.nth_weekday_of_month(nth, weekday))
                .ok(),
            Self::AfterEaster { days } => easter_sunday(year)?
                .checked_add(jiff::Span::new().days(days))
                .ok(),
            Self::FridayFirstOrFirstMonday { month } => {
                let first = Date::new(year, month, 1).ok()?;
                if first.weekday() == Weekday::Friday {
                    Some(first)
                } else {
                    first.nth_weekday_of_month(1, Weekday::Monday).ok()
                }
            }
        }
    }
}

/// A holiday that recurs by rule from `from_year` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolidayRule {
    pub name: &'static str,
    pub day: DayRule,
    /// The first year the rule applies.
    pub from_year: i16,
}

/// A holiday made for one date only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneOffHoliday {
    pub name: &'static str,
    pub date: Date,
    pub source: &'static str,
}

/// One public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: &'static str,
}

/// What a calendar can say about one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus {
    /// A public holiday, by rule or one-off.
    Holiday(&'static str),
    /// Not a public holiday, and the calendar covers the date fully.
    NotAHoliday,
    /// Not a public holiday under the rules as enacted, but the date's year is past the years
    /// the one-off list is known for: a one-off holiday made later would not be in it.
    NotAHolidayByRules,
    /// Before the calendar's coverage: it cannot say.
    NotCovered,
}

/// A jurisdiction's public holidays: recurring rules, computed for any year from
/// `covered_from`, and one-off days known through `one_offs_known_through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolidayCalendar {
    pub name: &'static str,
    /// Where the rules and the one-off list come from.
    pub source: &'static str,
    pub rules: &'static [HolidayRule],
    pub one_offs: &'static [OneOffHoliday],
    /// The first year the calendar is complete for (rules and one-off days).
    pub covered_from: i16,
    /// The last year whose one-off holidays were checked (when this calendar was last
    /// reviewed). Later years are covered by the rules only.
    pub one_offs_known_through: i16,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error(
        "calendar {calendar}: one-off holidays are known through {known_through}, before its coverage starts in {covered_from}"
    )]
    EmptyCoverage {
        calendar: &'static str,
        covered_from: i16,
        known_through: i16,
    },
    #[error("calendar {calendar}: one-off holiday {date} lies outside the years its list covers")]
    OneOffOutsideCoverage { calendar: &'static str, date: Date },
}

impl HolidayCalendar {
    /// The public holidays of `year` by rule and one-off list, in date order, whether or not
    /// the calendar covers the year (a rule's date and a one-off day may coincide: both are
    /// listed, the rule's first).
    pub fn holidays_in(&self, year: i16) -> Vec<Holiday> {
        let by_rule = self
            .rules
            .iter()
            .filter(|rule| rule.from_year <= year)
            .filter_map(|rule| {
                rule.day.in_year(year).map(|date| Holiday {
                    date,
                    name: rule.name,
                })
            });
        let one_off = self
            .one_offs
            .iter()
            .filter(|o| o.date.year() == year)
            .map(|o| Holiday {
                date: o.date,
                name: o.name,
            });
        let mut holidays: Vec<Holiday> = by_rule.chain(one_off).collect();
        holidays.sort_by_key(|h| h.date);
        holidays
    }

    /// What the calendar knows about `day`.
    pub fn status(&self, day: Date) -> DayStatus {
        let year = day.year();
        if year < self.covered_from {
            return DayStatus::NotCovered;
        }
        match self.holidays_in(year).iter().find(|h| h.date == day) {
            Some(holiday) => DayStatus::Holiday(holiday.name),
            None if year <= self.one_offs_known_through => DayStatus::NotAHoliday,
            None => DayStatus::NotAHolidayByRules,
        }
    }

    /// The first day of coverage.
    pub fn first_covered_day(&self) -> Option<Date> {
        Date::new(self.covered_from, 1, 1).ok()
    }

    /// The calendar's coverage in words, for reasons.
    pub fn coverage(&self) -> String {
        format!(
            "rules as enacted from {}; one-off holidays known through {}",
            self.covered_from, self.one_offs_known_through
        )
    }

    /// Name, source and coverage in one sentence, for reasons.
    pub fn describe(&self) -> String {
        format!(
            "Calendar: {} ({}); covers {}.",
            self.name,
            self.source,
            self.coverage()
        )
    }

    /// A calendar's one-off list must lie within the years it is known for.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.one_offs_known_through < self.covered_from {
            return Err(CalendarError::EmptyCoverage {
                calendar: self.name,
                covered_from: self.covered_from,
                known_through: self.one_offs_known_through,
            });
        }
        let known = self.covered_from..=self.one_offs_known_through;
        match self
            .one_offs
            .iter()
            .find(|o| !known.contains(&o.date.year()))
        {
            Some(o) => Err(CalendarError::OneOffOutsideCoverage {
                calendar: self.name,
                date: o.date,
            }),
            None => Ok(()),
        }
    }

    /// Irish public holidays: Organisation of Working Time Act 1997, Schedule 2, para. 1 (New
    /// Year's Day, St Patrick's Day, Easter Monday, the first Mondays of May, June and August,
    /// the last Monday of October, Christmas Day, St Stephen's Day), with the days prescribed
    /// under para. 1(g) by the regulations of 2022: St Brigid's Day from 2023 (the first Monday
    /// of February, or 1 February when that is a Friday) and, once, 18 March 2022.
    ///
    /// A holiday falling on a Saturday or Sunday stays on its date. Schedule 2 names the days
    /// themselves, and s.21(1) answers a holiday that is not a working day with a paid day off
    /// within a month, an extra day of annual leave or a day's pay, at the employer's choice;
    /// nothing moves the holiday, so the Monday many take off after a weekend St Patrick's Day
    /// is not a public holiday (citizensinformation.ie, "Public holidays in Ireland").
    ///
    /// Consumer Credit Act 1995 s.46(a)(ii)(II) means "public holiday" as in the Holidays
    /// (Employees) Act 1973, whose public holidays the 1997 Act repealed and re-enacted in
    /// Schedule 2; the reference reads as one to Schedule 2 (Interpretation Act 2005 s.26).
    ///
    /// Coverage starts in 2022: one-off days before it were not checked. The one-off list was
    /// last reviewed on 2 December 2026 (rule set IE version 2026-12-02), so it is known through
    /// 2026; review it, and move `one_offs_known_through`, with each new year.
    pub const fn ireland() -> Self {
        Self {
            name: "Irish public holidays",
            source: "Organisation of Working Time Act 1997 Sch. 2 para. 1, as amended: \
                     St Brigid's Day from 2023 and 18 March 2022 prescribed by regulations of \
                     2022 under para. 1(g); a holiday on a weekend stays on its date (s.21(1))",
            rules: IRISH_RULES,
            one_offs: IRISH_ONE_OFFS,
            covered_from: 2022,
            one_offs_known_through: 2026,
        }
    }
}

const fn rule(name: &'static str, day: DayRule, from_year: i16) -> HolidayRule {
    HolidayRule {
        name,
        day,
        from_year,
    }
}

/// Sch. 2 para. 1, in calendar order. `from_year` is 1997, the Act, for the days it listed
/// (some are older: the first Monday in May since 1994, S.I. No. 91 of 1993) and 2023 for St
/// Brigid's Day; only years from `covered_from` are relied on.
const IRISH_RULES: &[HolidayRule] = &[
    rule("New Year's Day", DayRule::Fixed { month: 1, day: 1 }, 1997),
    rule(
        "St Brigid's Day",
        DayRule::FridayFirstOrFirstMonday { month: 2 },
        2023,
    ),
    rule(
        "St Patrick's Day",
        DayRule::Fixed { month: 3, day: 17 },
        1997,
    ),
    rule("Easter Monday", DayRule::AfterEaster { days: 1 }, 1997),
    rule(
        "May bank holiday",
        DayRule::NthWeekday {
            month: 5,
            nth: 1,
            weekday: Weekday::Monday,
        },
        1997,
    ),
    rule(
        "June bank holiday",
        DayRule::NthWeekday {
            month: 6,
            nth: 1,
            weekday: Weekday::Monday,
        },
        1997,
    ),
    rule(
        "August bank holiday",
        DayRule::NthWeekday {
            month: 8,
            nth: 1,
            weekday: Weekday::Monday,
        },
        1997,
    ),
    rule(
        "October bank holiday",
        DayRule::NthWeekday {
            month: 10,
            nth: -1,
            weekday: Weekday::Monday,
        },
        1997,
    ),
    rule("Christmas Day", DayRule::Fixed { month: 12, day: 25 }, 1997),
    rule(
        "St Stephen's Day",
        DayRule::Fixed { month: 12, day: 26 },
        1997,
    ),
];

const IRISH_ONE_OFFS: &[OneOffHoliday] = &[OneOffHoliday {
    name: "Day of Remembrance and Recognition",
    date: date(2022, 3, 18),
    source: "Organisation of Working Time Act 1997 Sch. 2 para. 1(g), regulations of 2022",
}];

/// Western (Gregorian) Easter Sunday by the anonymous Gregorian algorithm (Meeus, Astronomical
/// Algorithms, ch. 8; Jones 1876, Butcher 1876). Valid for every Gregorian year.
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let (a, b, c) = (y % 19, y / 100, y % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(year: i16, days: &[(i8, i8)]) -> Vec<Date> {
        days.iter().map(|(m, d)| date(year, *m, *d)).collect()
    }

    fn irish_dates(year: i16) -> Vec<Date> {
        HolidayCalendar::ireland()
            .holidays_in(year)
            .iter()
            .map(|h| h.date)
            .collect()
    }

    /// Gauss's Easter algorithm with its two exceptions: written separately from the
    /// Meeus/Jones/Butcher form above, as the reference it is checked against.
    fn gauss_easter(year: i16) -> Date {
        let y = i32::from(year);
        let (a, b, c) = (y % 19, y % 4, y % 7);
        let k = y / 100;
        let p = (13 + 8 * k) / 25;
        let q = k / 4;
        let m = (15 - p + k - q) % 30;
        let n = (4 + k - q) % 7;
        let d = (19 * a + m) % 30;
        let e = (2 * b + 4 * c + 6 * d + n) % 7;
        if d == 29 && e == 6 {
            return date(year, 4, 19);
        }
        if d == 28 && e == 6 && (11 * m + 11) % 30 < 19 {
            return date(year, 4, 18);
        }
        let march_day = i8::try_from(22 + d + e).expect("small");
        if march_day <= 31 {
            date(year, 3, march_day)
        } else {
            date(year, 4, march_day - 31)
        }
    }

    #[test]
    fn easter_matches_published_dates() {
        // Earliest (22 March) and latest (25 April) possible, and 2024–2035.
        for (year, month, day) in [
            (1818, 3, 22),
            (2285, 3, 22),
            (1943, 4, 25),
            (2038, 4, 25),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2029, 4, 1),
            (2030, 4, 21),
            (2031, 4, 13),
            (2032, 3, 28),
            (2033, 4, 17),
            (2034, 4, 9),
            (2035, 3, 25),
        ] {
            assert_eq!(easter_sunday(year), Some(date(year, month, day)), "{year}");
        }
    }

    #[test]
    fn easter_agrees_with_gauss_for_every_gregorian_year() {
        for year in 1583..=9999 {
            let easter = easter_sunday(year).expect("representable");
            assert_eq!(easter, gauss_easter(year), "{year}");
            assert_eq!(easter.weekday(), Weekday::Sunday, "{year}");
            assert!(
                date(year, 3, 22) <= easter && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn irish_holidays_match_the_published_lists_2025_to_2027() {
        // citizensinformation.ie, "Public holidays in Ireland".
        assert_eq!(
            irish_dates(2025),
            dates(
                2025,
                &[
                    (1, 1),
                    (2, 3),
                    (3, 17),
                    (4, 21),
                    (5, 5),
                    (6, 2),
                    (8, 4),
                    (10, 27),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
        assert_eq!(
            irish_dates(2026),
            dates(
                2026,
                &[
                    (1, 1),
                    (2, 2),
                    (3, 17),
                    (4, 6),
                    (5, 4),
                    (6, 1),
                    (8, 3),
                    (10, 26),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
        assert_eq!(
            irish_dates(2027),
            dates(
                2027,
                &[
                    (1, 1),
                    (2, 1),
                    (3, 17),
                    (3, 29),
                    (5, 3),
                    (6, 7),
                    (8, 2),
                    (10, 25),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
    }

    #[test]
    fn irish_holidays_are_computed_for_any_year_2028_to_2035() {
        // The Schedule's rules applied by hand, Easter from published tables.
        let expected: [(i16, [(i8, i8); 10]); 8] = [
            (
                2028,
                [
                    (1, 1),
                    (2, 7),
                    (3, 17),
                    (4, 17),
                    (5, 1),
                    (6, 5),
                    (8, 7),
                    (10, 30),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2029,
                [
                    (1, 1),
                    (2, 5),
                    (3, 17),
                    (4, 2),
                    (5, 7),
                    (6, 4),
                    (8, 6),
                    (10, 29),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2030,
                [
                    (1, 1),
                    (2, 1),
                    (3, 17),
                    (4, 22),
                    (5, 6),
                    (6, 3),
                    (8, 5),
                    (10, 28),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2031,
                [
                    (1, 1),
                    (2, 3),
                    (3, 17),
                    (4, 14),
                    (5, 5),
                    (6, 2),
                    (8, 4),
                    (10, 27),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2032,
                [
                    (1, 1),
                    (2, 2),
                    (3, 17),
                    (3, 29),
                    (5, 3),
                    (6, 7),
                    (8, 2),
                    (10, 25),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2033,
                [
                    (1, 1),
                    (2, 7),
                    (3, 17),
                    (4, 18),
                    (5, 2),
                    (6, 6),
                    (8, 1),
                    (10, 31),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2034,
                [
                    (1, 1),
                    (2, 6),
                    (3, 17),
                    (4, 10),
                    (5, 1),
                    (6, 5),
                    (8, 7),
                    (10, 30),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2035,
                [
                    (1, 1),
                    (2, 5),
                    (3, 17),
                    (3, 26),
                    (5, 7),
                    (6, 4),
                    (8, 6),
                    (10, 29),
                    (12, 25),
                    (12, 26),
                ],
            ),
        ];
        for (year, days) in expected {
            assert_eq!(irish_dates(year), dates(year, &days), "{year}");
        }
    }

    #[test]
    fn easter_monday_follows_easter_in_every_year() {
        let calendar = HolidayCalendar::ireland();
        for year in 2022..=2100 {
            let monday = easter_sunday(year)
                .and_then(|sunday| sunday.tomorrow().ok())
                .expect("representable");
            assert_eq!(calendar.status(monday), DayStatus::Holiday("Easter Monday"));
            assert_eq!(monday.weekday(), Weekday::Monday);
            // Good Friday is not a public holiday in Ireland.
            let good_friday = monday.checked_sub(jiff::Span::new().days(3)).expect("date");
            assert!(
                !matches!(calendar.status(good_friday), DayStatus::Holiday(_)),
                "{good_friday}"
            );
        }
    }

    #[test]
    fn st_brigids_day_is_the_first_monday_of_february_or_a_friday_first() {
        let brigid = |year| {
            HolidayCalendar::ireland()
                .holidays_in(year)
                .into_iter()
                .find(|h| h.name == "St Brigid's Day")
                .map(|h| h.date)
        };
        assert_eq!(brigid(2025), Some(date(2025, 2, 3)));
        assert_eq!(brigid(2026), Some(date(2026, 2, 2)));
        // 1 February 2027 is itself a Monday.
        assert_eq!(brigid(2027), Some(date(2027, 2, 1)));
        // 1 February 2030 is a Friday: that day, not Monday 4 February.
        assert_eq!(date(2030, 2, 1).weekday(), Weekday::Friday);
        assert_eq!(brigid(2030), Some(date(2030, 2, 1)));
        assert_eq!(brigid(2023), Some(date(2023, 2, 6)));
        // Not before the regulations of 2022.
        assert_eq!(brigid(2022), None);
        for year in 2023..=2100 {
            let day = brigid(year).expect("every year");
            assert!(
                (day.weekday() == Weekday::Monday && day.day() <= 7)
                    || (day.weekday() == Weekday::Friday && day.day() == 1),
                "{day}"
            );
        }
    }

    #[test]
    fn a_weekend_holiday_stays_on_its_date() {
        let calendar = HolidayCalendar::ireland();
        // St Patrick's Day 2030 is a Sunday; Monday 18 March is an ordinary day.
        assert_eq!(date(2030, 3, 17).weekday(), Weekday::Sunday);
        assert_eq!(
            calendar.status(date(2030, 3, 17)),
            DayStatus::Holiday("St Patrick's Day")
        );
        assert_eq!(
            calendar.status(date(2030, 3, 18)),
            DayStatus::NotAHolidayByRules
        );
        // Christmas 2027 on a Saturday, St Stephen's Day on the Sunday; Monday 27th is not one.
        assert_eq!(
            calendar.status(date(2027, 12, 25)),
            DayStatus::Holiday("Christmas Day")
        );
        assert!(!matches!(
            calendar.status(date(2027, 12, 27)),
            DayStatus::Holiday(_)
        ));
    }

    #[test]
    fn one_off_holidays_come_from_the_dated_list() {
        let calendar = HolidayCalendar::ireland();
        assert_eq!(
            calendar.status(date(2022, 3, 18)),
            DayStatus::Holiday("Day of Remembrance and Recognition")
        );
        assert_eq!(calendar.holidays_in(2022).len(), 10);
        assert_eq!(
            calendar.status(date(2023, 3, 17)),
            DayStatus::Holiday("St Patrick's Day")
        );
        assert_eq!(calendar.status(date(2023, 3, 18)), DayStatus::NotAHoliday);
        calendar.validate().expect("the shipped calendar is valid");
    }

    #[test]
    fn coverage_says_what_the_calendar_cannot_know() {
        let calendar = HolidayCalendar::ireland();
        // Before the coverage: nothing is claimed, not even for a day the rules would give.
        assert_eq!(calendar.status(date(2021, 3, 17)), DayStatus::NotCovered);
        assert_eq!(calendar.status(date(2021, 6, 9)), DayStatus::NotCovered);
        // Within the one-off list's years: a full answer.
        assert_eq!(calendar.status(date(2026, 6, 10)), DayStatus::NotAHoliday);
        // Later: holidays by rule are holidays; other days are only "not by the rules".
        assert_eq!(
            calendar.status(date(2031, 12, 26)),
            DayStatus::Holiday("St Stephen's Day")
        );
        assert_eq!(
            calendar.status(date(2031, 6, 11)),
            DayStatus::NotAHolidayByRules
        );
        assert_eq!(calendar.first_covered_day(), Some(date(2022, 1, 1)));
        let described = calendar.describe();
        assert!(
            described.contains("Organisation of Working Time Act 1997"),
            "{described}"
        );
        assert!(described.contains("from 2022"), "{described}");
        assert!(described.contains("known through 2026"), "{described}");
    }

    #[test]
    fn a_one_off_outside_the_known_years_is_named() {
        const LATE: &[OneOffHoliday] = &[OneOffHoliday {
            name: "late",
            date: date(2030, 1, 2),
            source: "test",
        }];
        let calendar = HolidayCalendar {
            one_offs: LATE,
            ..HolidayCalendar::ireland()
        };
        assert_eq!(
            calendar.validate(),
            Err(CalendarError::OneOffOutsideCoverage {
                calendar: "Irish public holidays",
                date: date(2030, 1, 2)
            })
        );
        let inverted = HolidayCalendar {
            one_offs_known_through: 2020,
            ..HolidayCalendar::ireland()
        };
        assert!(matches!(
            inverted.validate(),
            Err(CalendarError::EmptyCoverage { .. })
        ));
    }
}
