//! Money as a person reads it: the locale's digits, grouping and decimal mark, as many decimals
//! as the currency's minor unit (JPY 0, EUR 2, KWD 3), and the ISO code rather than a symbol
//! ("$" is several currencies). One formatter for every text Rapport writes: outreach messages
//! and the desk console.
//!
//! The conventions are CLDR's for each language (and region where it differs), written out
//! here rather than pulled from an ICU build: English, Japanese, Chinese, Korean, Thai and
//! Hebrew group with "," and mark decimals with "." ("EUR 1,234.56", "JPY 1,500,000");
//! German, Romanian, Spanish, Italian, Dutch, Portuguese (Brazil), Turkish and most of
//! continental Europe the other way round ("1.234,56 EUR"); French, the Nordic and most Slavic
//! languages group with a space ("1 234,56 EUR"); Swiss German and Italian with "’"; India in
//! lakhs ("INR 12,34,567.00"); Arabic (outside the Maghreb) and Persian in their own digits
//! ("١٬٢٣٤٫٥٦٧ KWD"). Anything else reads as the continental European style.

use crate::Money;

/// How one locale writes numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NumberStyle {
    group: &'static str,
    decimal: &'static str,
    /// Digits 0–9 in the locale's script; `None` = ASCII.
    digits: Option<[char; 10]>,
    /// Lakh grouping: the last three digits, then pairs ("12,34,567").
    indian: bool,
    /// The ISO code before the amount ("EUR 1.00") rather than after it ("1,00 EUR").
    code_first: bool,
}

const ARABIC_INDIC: [char; 10] = ['٠', '١', '٢', '٣', '٤', '٥', '٦', '٧', '٨', '٩'];
const PERSIAN: [char; 10] = ['۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹'];
/// U+00A0 and U+202F: a space that never breaks a number across lines.
const NO_BREAK_SPACE: &str = "\u{a0}";
const NARROW_NO_BREAK_SPACE: &str = "\u{202f}";

const POINT: NumberStyle = NumberStyle {
    group: ",",
    decimal: ".",
    digits: None,
    indian: false,
    code_first: true,
};
const COMMA: NumberStyle = NumberStyle {
    group: ".",
    decimal: ",",
    digits: None,
    indian: false,
    code_first: false,
};
const SPACE: NumberStyle = NumberStyle {
    group: NO_BREAK_SPACE,
    ..COMMA
};

/// The language and region of a BCP 47 tag ("ar-KW" → ("ar", "KW"); "sr-Latn-RS" → ("sr", "RS");
/// "_" read as "-").
fn language_and_region(locale: &str) -> (String, String) {
    let mut parts = locale.trim().split(['-', '_']);
    let language = parts.next().unwrap_or_default().to_ascii_lowercase();
    let region = parts
        .find(|part| {
            (part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()))
                || (part.len() == 3 && part.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or_default()
        .to_ascii_uppercase();
    (language, region)
}

fn style(locale: &str) -> NumberStyle {
    let (language, region) = language_and_region(locale);
    if region == "IN" && matches!(language.as_str(), "en" | "hi" | "") {
        return NumberStyle {
            indian: true,
            ..POINT
        };
    }
    if region == "CH" && matches!(language.as_str(), "de" | "it") {
        return NumberStyle {
            group: "’",
            decimal: ".",
            ..COMMA
        };
    }
    match language.as_str() {
        "" | "en" | "ja" | "zh" | "ko" | "th" | "he" | "iw" => POINT,
        "hi" => NumberStyle {
            indian: true,
            ..POINT
        },
        "es" if matches!(
            region.as_str(),
            "MX" | "US" | "419" | "PR" | "DO" | "GT" | "HN" | "NI" | "PA" | "PE" | "SV"
        ) =>
        {
            NumberStyle {
                code_first: false,
                ..POINT
            }
        }
        "ar" if matches!(region.as_str(), "DZ" | "MA" | "TN" | "LY" | "EH") => COMMA,
        "ar" => NumberStyle {
            group: "٬",
            decimal: "٫",
            digits: Some(ARABIC_INDIC),
            ..COMMA
        },
        "fa" => NumberStyle {
            group: "٬",
            decimal: "٫",
            digits: Some(PERSIAN),
            ..COMMA
        },
        "fr" => NumberStyle {
            group: NARROW_NO_BREAK_SPACE,
            ..COMMA
        },
        "pt" if region != "BR" && !region.is_empty() => SPACE,
        "sv" | "nb" | "nn" | "no" | "fi" | "pl" | "cs" | "sk" | "ru" | "uk" | "be" | "bg"
        | "hu" | "lt" | "lv" | "et" | "kk" => SPACE,
        _ => COMMA,
    }
}

/// `money` in `locale`'s number style, with as many decimals as the currency's minor unit and
/// its ISO code: "EUR 1,234.56" (en-GB), "1.234,56 EUR" (de-DE), "JPY 1,500,000" (ja-JP),
/// "١٬٢٣٤٫٥٦٧ KWD" (ar-KW), "1.234,56 RON" (ro-RO). An empty or unknown locale reads as above
/// (English for an empty one).
pub fn format_money(money: Money, locale: &str) -> String {
    let style = style(locale);
    let decimal = money.to_decimal_string();
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(whole.len() * 2);
    let length = whole.len();
    for (i, c) in whole.chars().enumerate() {
        let left = length - i;
        let boundary = if style.indian {
            left >= 3 && (left - 3) % 2 == 0
        } else {
            left % 3 == 0
        };
        if i > 0 && boundary {
            grouped.push_str(style.group);
        }
        grouped.push(c);
    }
    let mut amount = format!("{sign}{grouped}");
    if !fraction.is_empty() {
        amount.push_str(style.decimal);
        amount.push_str(fraction);
    }
    if let Some(script) = style.digits {
        amount = amount
            .chars()
            .map(|c| c.to_digit(10).map_or(c, |d| script[d as usize]))
            .collect();
    }
    let code = money.currency().code();
    if style.code_first {
        format!("{code} {amount}")
    } else {
        format!("{amount} {code}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn money(code: &str, minor: i64) -> Money {
        Money::from_minor(Currency::parse(code).expect("in the ISO table"), minor)
    }

    #[test]
    fn japanese_yen_has_no_decimals_and_groups_with_commas() {
        assert_eq!(
            format_money(money("JPY", 1_500_000), "ja-JP"),
            "JPY 1,500,000"
        );
        assert_eq!(format_money(money("JPY", 980), "ja"), "JPY 980");
    }

    #[test]
    fn german_euros_group_with_points_and_mark_decimals_with_a_comma() {
        assert_eq!(format_money(money("EUR", 123_456), "de-DE"), "1.234,56 EUR");
        assert_eq!(format_money(money("EUR", -5), "de-DE"), "-0,05 EUR");
    }

    #[test]
    fn kuwaiti_dinars_have_three_decimals_in_arabic_indic_digits() {
        assert_eq!(
            format_money(money("KWD", 1_234_567), "ar-KW"),
            "١٬٢٣٤٫٥٦٧ KWD"
        );
        // The Maghreb writes Latin digits.
        assert_eq!(
            format_money(money("KWD", 1_234_567), "ar-MA"),
            "1.234,567 KWD"
        );
    }

    #[test]
    fn british_pounds_put_the_code_first() {
        assert_eq!(
            format_money(money("GBP", 123_456_789), "en-GB"),
            "GBP 1,234,567.89"
        );
        assert_eq!(format_money(money("GBP", 0), "en-GB"), "GBP 0.00");
    }

    #[test]
    fn romanian_lei_follow_the_continental_style() {
        assert_eq!(format_money(money("RON", 123_456), "ro-RO"), "1.234,56 RON");
        assert_eq!(format_money(money("EUR", 5), "ro"), "0,05 EUR");
    }

    #[test]
    fn spaces_lakhs_and_apostrophes_where_the_locale_uses_them() {
        assert_eq!(
            format_money(money("EUR", 123_456), "fr-FR"),
            "1\u{202f}234,56 EUR"
        );
        assert_eq!(
            format_money(money("SEK", 123_456), "sv-SE"),
            "1\u{a0}234,56 SEK"
        );
        assert_eq!(
            format_money(money("INR", 123_456_700), "en-IN"),
            "INR 12,34,567.00"
        );
        assert_eq!(format_money(money("INR", 99_900), "hi-IN"), "INR 999.00");
        assert_eq!(format_money(money("CHF", 123_456), "de-CH"), "1’234.56 CHF");
        assert_eq!(format_money(money("MXN", 123_456), "es-MX"), "1,234.56 MXN");
    }

    #[test]
    fn an_empty_locale_reads_as_english_and_an_unknown_one_as_continental() {
        assert_eq!(format_money(money("EUR", 123_456), ""), "EUR 1,234.56");
        assert_eq!(format_money(money("EUR", 123_456), "xx"), "1.234,56 EUR");
    }
}
