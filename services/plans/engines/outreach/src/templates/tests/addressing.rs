//! Locale, name, stage and amount choices.

use super::*;

#[test]
fn the_locale_is_the_requests_then_the_customers_then_english() {
    assert_eq!(
        choose_locale("es", Some("ro-RO")),
        ("es".to_owned(), LocaleSource::Request)
    );
    assert_eq!(
        choose_locale(" ", Some("ro-RO")),
        ("ro-RO".to_owned(), LocaleSource::Customer)
    );
    assert_eq!(
        choose_locale("", Some("")),
        ("en".to_owned(), LocaleSource::Fallback)
    );
    assert_eq!(
        choose_locale("", None),
        ("en".to_owned(), LocaleSource::Fallback)
    );
}

#[test]
fn a_name_matches_a_word_or_the_whole_of_the_legal_or_preferred_name() {
    assert!(name_matches("Ana", "Ana Ionescu", ""));
    assert!(name_matches("ana ionescu", "Ana Ionescu", ""));
    assert!(name_matches("Stefan", "Ștefan Popa", ""));
    assert!(name_matches("Nia", "Ana Ionescu", "Nia"));
    assert!(!name_matches("Alex", "Ana Ionescu", "Nia"));
    assert!(!name_matches("Ana Popa", "Ana Ionescu", ""));
    assert!(!name_matches(" ", "Ana Ionescu", ""));
    assert_eq!(first_name("Ana Ionescu", ""), Some("Ana".to_owned()));
    assert_eq!(first_name("Ana Ionescu", "Nia"), Some("Nia".to_owned()));
    assert_eq!(first_name("", ""), None);
}

#[test]
fn amounts_follow_the_locale_and_the_currencys_exponent() {
    use rapport_money::{Currency, Money};
    let kwd = Currency::parse("KWD").expect("in the table");
    assert_eq!(
        format_money(Money::from_minor(Currency::EUR, 123_456), "en-GB"),
        "EUR 1,234.56"
    );
    assert_eq!(
        format_money(Money::from_minor(Currency::RON, 123_456), "ro"),
        "1.234,56 RON"
    );
    assert_eq!(
        format_money(Money::from_minor(Currency::JPY, 1_500_000), "en"),
        "JPY 1,500,000"
    );
    assert_eq!(
        format_money(Money::from_minor(kwd, 1_234), "es"),
        "1,234 KWD"
    );
    assert_eq!(
        format_money(Money::from_minor(Currency::EUR, 5), "ro-RO"),
        "0,05 EUR"
    );
}

#[test]
fn link_opt_outs_are_the_channels_that_need_to_know_whose_they_are() {
    for channel in [
        Channel::Email,
        Channel::InApp,
        Channel::Push,
        Channel::WebChat,
    ] {
        assert!(opt_out_is_link(channel), "{channel:?}");
    }
    for channel in [
        Channel::Sms,
        Channel::Messaging,
        Channel::Letter,
        Channel::Phone,
    ] {
        assert!(!opt_out_is_link(channel), "{channel:?}");
    }
}
