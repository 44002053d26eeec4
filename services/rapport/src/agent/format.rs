//! How the agent's commands write what they read: tables that line up in any script, money with
//! its currency's decimals (never floats), dates, instants in the customer's own time zone, and
//! enum values in words.

use rapport_proto::common::v1 as common;

/// Columns padded to their widest cell, measured in terminal columns (a Chinese character takes
/// two, a combining accent none), so names in any script line up.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.width()))))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// The same table, each line indented (a table inside a section).
pub fn indented(headers: &[&str], rows: &[Vec<String>]) -> String {
    table(headers, rows)
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect()
}

/// "GBP 1234.56"; an amount in an unknown currency prints its minor units.
pub fn money(m: Option<&common::Money>) -> String {
    match m {
        None => "-".to_owned(),
        Some(m) => match rapport_money::Currency::parse(&m.currency_code) {
            Ok(currency) => format!(
                "{} {}",
                m.currency_code,
                rapport_money::Money::from_minor(currency, m.minor_units).to_decimal_string()
            ),
            Err(_) => format!("{} {} (minor units)", m.currency_code, m.minor_units),
        },
    }
}

pub fn date(d: Option<&common::Date>) -> String {
    d.map_or("-".to_owned(), |d| {
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    })
}

pub fn short<T: std::fmt::Debug>(value: Option<T>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:?}"))
}

/// An enum value's protobuf name in words: "DELINQUENCY_STAGE_MID" with prefix
/// "DELINQUENCY_STAGE_" is "mid"; "PROTECTION_KIND_BREATHING_SPACE" is "breathing space".
pub fn words(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .replace('_', " ")
        .to_lowercase()
}

pub fn instant(t: Option<&prost_types::Timestamp>) -> Option<jiff::Timestamp> {
    t.and_then(|t| jiff::Timestamp::new(t.seconds, t.nanos).ok())
}

/// An instant in UTC, to the minute.
pub fn utc(t: Option<&prost_types::Timestamp>) -> String {
    instant(t).map_or("-".to_owned(), |t| {
        t.strftime("%Y-%m-%d %H:%M UTC").to_string()
    })
}

/// An instant as the customer's clock shows it, with the zone's abbreviation ("Tue 2026-03-03
/// 08:00 EET"); in UTC when the zone is unknown.
pub fn in_zone(t: Option<&prost_types::Timestamp>, zone: &str) -> String {
    let Some(t) = instant(t) else {
        return "-".to_owned();
    };
    match jiff::tz::TimeZone::get(zone) {
        Ok(tz) => t.to_zoned(tz).strftime("%a %Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => t.strftime("%a %Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// How long a customer has been with us on `today`: "13 years 6 months", "4 months".
pub fn tenure(since: Option<&common::Date>, today: Option<jiff::civil::Date>) -> Option<String> {
    let since = since?;
    let since = jiff::civil::Date::new(
        i16::try_from(since.year).ok()?,
        i8::try_from(since.month).ok()?,
        i8::try_from(since.day).ok()?,
    )
    .ok()?;
    let span = since
        .until((jiff::Unit::Year, today?))
        .ok()?
        .round(
            jiff::SpanRound::new()
                .smallest(jiff::Unit::Month)
                .relative(since)
                .mode(jiff::RoundMode::Trunc),
        )
        .ok()?;
    let plural = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let (years, months) = (i64::from(span.get_years()), i64::from(span.get_months()));
    Some(match (years, months) {
        (0, 0) => "less than a month".to_owned(),
        (0, m) => plural(m, "month"),
        (y, 0) => plural(y, "year"),
        (y, m) => format!("{} {}", plural(y, "year"), plural(m, "month")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_line_up_in_any_script() {
        let out = table(
            &["NAME", "SINCE"],
            &[
                vec!["Ștefan Popescu".into(), "2019-05-01".into()],
                vec!["李雷".into(), "2020-01-01".into()],
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "NAME            SINCE");
        assert_eq!(lines[2], "Ștefan Popescu  2019-05-01");
        // Two wide characters take four columns.
        assert_eq!(lines[3], "李雷            2020-01-01");
    }

    #[test]
    fn money_prints_with_its_decimals() {
        let m = |code: &str, minor| common::Money {
            currency_code: code.into(),
            minor_units: minor,
        };
        assert_eq!(money(Some(&m("GBP", 123_456))), "GBP 1234.56");
        assert_eq!(money(Some(&m("JPY", 1_500))), "JPY 1500");
        assert_eq!(money(Some(&m("KWD", 1_234))), "KWD 1.234");
        assert_eq!(money(Some(&m("RON", -5))), "RON -0.05");
        assert_eq!(money(None), "-");
    }

    #[test]
    fn enum_names_read_as_words() {
        assert_eq!(words("DELINQUENCY_STAGE_MID", "DELINQUENCY_STAGE_"), "mid");
        assert_eq!(
            words("PROTECTION_KIND_BREATHING_SPACE", "PROTECTION_KIND_"),
            "breathing space"
        );
    }

    #[test]
    fn instants_show_on_the_customers_clock() {
        let t = prost_types::Timestamp {
            seconds: 1_772_442_000, // 2026-03-02T09:00:00Z
            nanos: 0,
        };
        assert_eq!(
            in_zone(Some(&t), "Europe/Bucharest"),
            "Mon 2026-03-02 11:00 EET"
        );
        assert_eq!(
            in_zone(Some(&t), "Nowhere/Else"),
            "Mon 2026-03-02 09:00 UTC"
        );
        assert_eq!(in_zone(None, "Europe/Bucharest"), "-");
    }

    #[test]
    fn tenure_counts_whole_years_and_months() {
        let since = common::Date {
            year: 2012,
            month: 5,
            day: 14,
        };
        let on = |y, m, d| Some(jiff::civil::date(y, m, d));
        assert_eq!(
            tenure(Some(&since), on(2026, 3, 1)).as_deref(),
            Some("13 years 9 months")
        );
        assert_eq!(
            tenure(Some(&since), on(2013, 5, 14)).as_deref(),
            Some("1 year")
        );
        assert_eq!(
            tenure(Some(&since), on(2012, 5, 20)).as_deref(),
            Some("less than a month")
        );
        assert_eq!(tenure(None, on(2026, 1, 1)), None);
    }
}
