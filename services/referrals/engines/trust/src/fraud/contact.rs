//! Normalising contact details so that two spellings of one mailbox, phone or home compare equal.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Mail domains that deliver `j.doe@` and `jdoe@` to one mailbox, and the domain they are compared
/// under. Only consumer Gmail documents this (support.google.com/mail/answer/7436150); Google
/// Workspace domains, Outlook, Yahoo and the rest treat dots as part of the address.
const DOTS_IGNORED_BY: &[(&str, &str)] =
    &[("gmail.com", "gmail.com"), ("googlemail.com", "gmail.com")];

/// Contact details normalised for comparison (never stored in place of the originals).
///
/// Lowercased and trimmed (the local part too: it may be case-sensitive in theory, but no
/// provider a fraudster can sign up at treats it so); a `+tag` is dropped for every provider;
/// dots are dropped where the provider ignores them (Gmail), and googlemail.com becomes
/// gmail.com. `None` if the text is not `local@domain.tld`.
pub fn normalise_email(email: &str) -> Option<String> {
    let email: String = email.trim().to_lowercase().nfc().collect();
    let (local, domain) = email.split_once('@')?;
    // A fully qualified domain may end with the root's dot; mail goes to the same place.
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if !is_domain(domain) {
        return None;
    }
    let local = match local.split_once('+') {
        // "+tag@…" with nothing before the tag is kept whole: dropping it would leave no mailbox.
        Some((mailbox, _tag)) if !mailbox.is_empty() => mailbox,
        _ => local,
    };
    let (local, domain) = match DOTS_IGNORED_BY.iter().find(|(known, _)| *known == domain) {
        Some((_, canonical)) => (local.replace('.', ""), *canonical),
        None => (local.to_owned(), domain),
    };
    let plausible_local = (1..=64).contains(&local.chars().count())
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible_local.then(|| format!("{local}@{domain}"))
}

fn is_domain(domain: &str) -> bool {
    (1..=253).contains(&domain.chars().count())
        && domain.contains('.')
        && domain.split('.').all(is_domain_label)
}

/// A DNS label: letters (any script, for IDN), digits and inner hyphens, at most 63 long.
fn is_domain_label(label: &str) -> bool {
    let (Some(first), Some(last)) = (label.chars().next(), label.chars().next_back()) else {
        return false;
    };
    label.chars().count() <= 63
        && first != '-'
        && last != '-'
        && !is_combining_mark(first)
        && label
            .chars()
            .all(|c| c == '-' || c.is_alphanumeric() || is_combining_mark(c))
}

/// Digits in an E.164 number, country code included. The shortest numbering plans in use
/// (Niue +683, Saint Helena +290) have 4-digit subscriber numbers, so 7; ITU-T E.164 caps at 15.
const E164_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// A phone number in E.164 form, `+` and digits, for comparison.
///
/// Spaces, dashes, dots, slashes and parentheses used for grouping are removed, and a "(0)" is
/// removed whole: in "+44 (0)20 7946 0018" it marks the trunk prefix dialled only at home.
/// `None` without the leading `+` (a national number cannot be compared without knowing its
/// country), with letters or other characters, or with a digit count E.164 does not allow.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let grouped = phone.trim().strip_prefix('+')?.replace("(0)", "");
    let mut number = String::with_capacity(16);
    number.push('+');
    for c in grouped.chars() {
        match c {
            '0'..='9' => number.push(c),
            '-' | '.' | '/' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    let digits = &number[1..];
    (E164_DIGITS.contains(&digits.len()) && !digits.starts_with('0')).then_some(number)
}

/// Separates the street, postal code and country in a normalised address. Punctuation never
/// survives in the street part or the codes, so the key splits back unambiguously.
pub const ADDRESS_KEY_SEPARATOR: char = '|';

/// Street words written short, spelled out so "12 Main St." and "12 main street" compare equal.
/// "St" for "Saint" becomes "street" too; both sides of a comparison get the same treatment,
/// so the same address still matches itself.
const COMMON_ABBREVIATIONS: &[(&str, &str)] = &[
    ("apt", "apartment"),
    ("av", "avenue"),
    ("ave", "avenue"),
    ("bldg", "building"),
    ("blvd", "boulevard"),
    ("ct", "court"),
    ("dr", "drive"),
    ("fl", "floor"),
    ("hwy", "highway"),
    ("ln", "lane"),
    ("pl", "place"),
    ("rd", "road"),
    ("sq", "square"),
    ("st", "street"),
    ("ste", "suite"),
];

/// Romanian street words (after diacritics are removed: "șos." is "sos"). An empty expansion
/// drops the word: "Str. Lalelelor nr. 5" and "Strada Lalelelor 5" are one address.
const ROMANIAN_ABBREVIATIONS: &[(&str, &str)] = &[
    ("ap", "apartament"),
    ("apt", "apartament"),
    ("b-dul", "bulevardul"),
    ("bd", "bulevardul"),
    ("bdul", "bulevardul"),
    ("bl", "bloc"),
    ("blvd", "bulevardul"),
    ("et", "etaj"),
    ("nr", ""),
    ("numar", ""),
    ("numarul", ""),
    ("sc", "scara"),
    ("sect", "sector"),
    ("sos", "soseaua"),
    ("str", "strada"),
];

/// German-speaking countries write "Straße" as "Str." on its own and as "…str." at a name's end.
const GERMAN_ABBREVIATIONS: &[(&str, &str)] = &[("str", "strasse")];
const GERMAN_SPEAKING: &[&str] = &["AT", "CH", "DE", "LI"];

fn country_abbreviations(country: &str) -> &'static [(&'static str, &'static str)] {
    match country {
        "RO" | "MD" => ROMANIAN_ABBREVIATIONS,
        c if GERMAN_SPEAKING.contains(&c) => GERMAN_ABBREVIATIONS,
        _ => &[],
    }
}

/// A postal address normalised for comparison: `street|POSTALCODE|COUNTRY`.
///
/// The street part joins the lines, folded to lowercase without diacritics (ș → s, ß → ss),
/// punctuation removed, whitespace collapsed and common abbreviations spelled out (st → street,
/// rd → road, ave → avenue, apt → apartment; in Romania str → strada, nr dropped; in German-speaking
/// countries str → strasse). The postal code keeps only its letters and digits, uppercased; the
/// country is uppercased. `None` when no street words remain. Locality is left out on purpose:
/// the postal code carries it, and town names are spelled too many ways.
pub fn normalise_address(
    lines: &[String],
    postal_code: &str,
    country_code: &str,
) -> Option<String> {
    let country: String = country_code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let postal: String = fold(postal_code)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let local_words = country_abbreviations(&country);
    let german = GERMAN_SPEAKING.contains(&country.as_str());

    let mut words: Vec<String> = Vec::new();
    let mut push = |word: &str| {
        let expansion = lookup(local_words, word).or_else(|| lookup(COMMON_ABBREVIATIONS, word));
        match expansion {
            Some("") => {}
            Some(expanded) => words.push(expanded.to_owned()),
            None => match word.strip_suffix("str") {
                // "Hauptstr." is "Hauptstraße".
                Some(name) if german && !name.is_empty() => words.push(format!("{name}strasse")),
                _ => words.push(word.to_owned()),
            },
        }
    };
    for line in lines {
        let folded = fold(line);
        for token in folded.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            let token = token.trim_matches(|c: char| !c.is_alphanumeric());
            if token.is_empty() {
                continue;
            }
            // Abbreviations with inner punctuation ("b-dul") are looked up before splitting.
            if token.contains(|c: char| !c.is_alphanumeric())
                && lookup(local_words, token).is_some()
            {
                push(token);
                continue;
            }
            token
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .for_each(&mut push);
        }
    }
    if words.is_empty() {
        return None;
    }
    let sep = ADDRESS_KEY_SEPARATOR;
    Some(format!("{}{sep}{postal}{sep}{country}", words.join(" ")))
}

fn lookup(table: &[(&str, &'static str)], word: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(short, _)| *short == word)
        .map(|(_, long)| *long)
}

/// Lowercase, diacritics removed, compatibility forms unfolded (ﬁ → fi, fullwidth → ASCII),
/// Latin letters without a decomposition spelled out, apostrophes removed so "O'Connell" and
/// "OConnell" fold alike. Marks are removed in every script: this is a comparison key, and a
/// false merge needs the same street, number and postal code as well.
fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    // Lowercasing can produce a letter with a mark (İ → i̇), so decompose again after it.
    for c in text.nfkd().flat_map(char::to_lowercase).nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ') {
            continue;
        }
        match c {
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'þ' => folded.push_str("th"),
            'ø' => folded.push('o'),
            'ł' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'ħ' => folded.push('h'),
            'ı' => folded.push('i'),
            c => folded.push(c),
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fraud::testing::*;
    use proptest::prelude::*;

    // ------------------------------------------------------------ email

    #[test]
    fn gmail_dot_and_plus_variants_are_one_mailbox() {
        let canonical = Some("johndoe@gmail.com".to_owned());
        for variant in [
            "johndoe@gmail.com",
            "John.Doe@gmail.com",
            "j.o.h.n.d.o.e@GMAIL.COM",
            "john.doe+referral@gmail.com",
            "  JohnDoe+a+b@googlemail.com ",
            "john.doe@gmail.com.",
        ] {
            assert_eq!(normalise_email(variant), canonical, "{variant}");
        }
    }

    #[test]
    fn other_providers_keep_dots_but_lose_the_tag() {
        assert_eq!(
            normalise_email("John.Doe+promo@Outlook.com").as_deref(),
            Some("john.doe@outlook.com")
        );
        assert_ne!(
            normalise_email("john.doe@outlook.com"),
            normalise_email("johndoe@outlook.com")
        );
        assert_eq!(
            normalise_email("ana.pop+x@example.ro"),
            normalise_email("Ana.Pop@example.ro")
        );
        // A Google Workspace domain is not gmail.com: dots matter there.
        assert_ne!(
            normalise_email("a.b@company.com"),
            normalise_email("ab@company.com")
        );
    }

    #[test]
    fn text_that_is_not_an_email_is_none() {
        for text in [
            "",
            "john",
            "john@",
            "@gmail.com",
            "john@localhost",
            "jo hn@gmail.com",
            "a@b@c.com",
            "...@gmail.com",
            "x@-bad-.com",
        ] {
            assert_eq!(normalise_email(text), None, "{text:?}");
        }
        // Nothing before the tag: kept whole rather than left with no mailbox.
        assert_eq!(
            normalise_email("+tag@example.com").as_deref(),
            Some("+tag@example.com")
        );
    }

    // ------------------------------------------------------------ phone

    #[test]
    fn phone_formats_compare_in_e164() {
        for variant in [
            "+40721234567",
            "+40 721 234 567",
            "+40-721-234-567",
            "+40.721.234.567",
            "+40 (721) 234 567",
            "+40 (0)721 234 567",
            " +40 721/234 567 ",
        ] {
            assert_eq!(
                normalise_phone(variant).as_deref(),
                Some("+40721234567"),
                "{variant}"
            );
        }
        assert_eq!(
            normalise_phone("+44 (0)20 7946 0018").as_deref(),
            Some("+442079460018")
        );
    }

    #[test]
    fn phones_that_do_not_look_like_e164_are_none() {
        for text in [
            "",
            "0721234567",
            "+",
            "+40 721 ABC 567",
            "+0721234567",
            "+123",
            "+1234567890123456",
            "tel:+40721234567",
        ] {
            assert_eq!(normalise_phone(text), None, "{text:?}");
        }
    }

    // ------------------------------------------------------------ address

    #[test]
    fn address_spellings_compare_equal() {
        assert_eq!(
            address(&["12 Main St."], "SW1A 1AA", "gb"),
            address(&["12  main street"], "sw1a1aa", "GB")
        );
        assert_eq!(
            address(&["12 Main St.", "Apt. 4"], "10001", "US"),
            address(&["12 Main Street, Apartment 4"], "10001", "US")
        );
        assert_eq!(
            address(&["12 Main St."], "SW1A 1AA", "GB"),
            "12 main street|SW1A1AA|GB"
        );
        // Romanian: diacritics, "Str." and "nr.".
        assert_eq!(
            address(
                &["Str. Ștefan cel Mare nr. 5, bl. A2, ap. 14"],
                "700 012",
                "ro"
            ),
            address(
                &["Strada Stefan cel Mare 5", "Bloc A2 Apartament 14"],
                "700012",
                "RO"
            ),
        );
        assert_eq!(
            address(&["B-dul Unirii 3"], "", "RO"),
            address(&["Bulevardul Unirii 3"], "", "RO")
        );
        // German: "Str." alone and at the end of a name.
        assert_eq!(
            address(&["Hauptstr. 7"], "10115", "DE"),
            address(&["Hauptstraße 7"], "10115", "DE")
        );
        assert_eq!(
            address(&["O'Connell St"], "D01", "IE"),
            address(&["OConnell Street"], "D01", "IE")
        );
    }

    #[test]
    fn different_addresses_stay_different() {
        assert_ne!(
            address(&["12 Main St"], "10001", "US"),
            address(&["14 Main St"], "10001", "US")
        );
        assert_ne!(
            address(&["12 Main St"], "10001", "US"),
            address(&["12 Main St"], "10002", "US")
        );
        assert_ne!(
            address(&["12 Main St"], "10001", "US"),
            address(&["12 Main St"], "10001", "CA")
        );
        assert_eq!(
            normalise_address(&strings(&["", " , . "]), "10001", "US"),
            None
        );
        assert_eq!(normalise_address(&[], "10001", "US"), None);
    }

    #[test]
    fn expansions_are_never_abbreviations_themselves() {
        // Otherwise normalising twice would expand twice.
        for table in [
            COMMON_ABBREVIATIONS,
            ROMANIAN_ABBREVIATIONS,
            GERMAN_ABBREVIATIONS,
        ] {
            for (_, long) in table {
                for word in long.split(' ').filter(|w| !w.is_empty()) {
                    assert!(
                        lookup(table, word).is_none()
                            && lookup(COMMON_ABBREVIATIONS, word).is_none(),
                        "{word}"
                    );
                    assert!(!word.ends_with("str"), "{word}");
                }
            }
        }
    }

    // ------------------------------------------------------------ properties

    fn email_like() -> impl Strategy<Value = String> {
        (
            "[A-Za-z0-9._+-]{0,12}",
            prop::sample::select(vec![
                "gmail.com",
                "GoogleMail.com",
                "outlook.com",
                "example.ro",
                "gmail.com.",
            ]),
        )
            .prop_map(|(local, domain)| format!("{local}@{domain}"))
    }

    fn phone_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\+ ?[1-9]{1,3}( ?\\(0\\))?[0-9 ().\\-/]{5,20}",
            "[ +]{0,2}[0-9 ().\\-/]{0,22}",
        ]
    }

    fn address_lines() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop::string::string_regex("[0-9]{0,3} ?(Main|Ștefan|straße|Hauptstr|O'Connell|B-dul|Æbelø)? ?(St|st\\.|Rd|Ave|Apt|Str\\.|nr\\.|bl|ap)?[ ,.]{0,2}[0-9A-Za-z]{0,4}")
                .expect("a valid regex"),
            0..3,
        )
    }

    /// Re-normalises an address key through the public function.
    fn renormalise_address(key: &str) -> Option<String> {
        let mut parts = key.split(ADDRESS_KEY_SEPARATOR);
        let (street, postal, country) = (parts.next()?, parts.next()?, parts.next()?);
        normalise_address(&[street.to_owned()], postal, country)
    }

    proptest! {
        #[test]
        fn normalise_email_is_idempotent(email in prop_oneof![email_like(), "\\PC{0,30}"]) {
            if let Some(once) = normalise_email(&email) {
                prop_assert_eq!(normalise_email(&once), Some(once.clone()));
            }
        }

        #[test]
        fn gmail_variants_normalise_alike(name in "[a-z0-9]{1,12}", dots in prop::collection::vec(any::<bool>(), 12), tag in "[a-z0-9]{0,6}", upper in any::<bool>()) {
            let dotted: String = name.chars().zip(&dots).flat_map(|(c, &dot)| [Some(c), dot.then_some('.')]).flatten().collect();
            let mut variant = format!("{dotted}+{tag}@googlemail.com");
            if upper {
                variant = variant.to_uppercase();
            }
            prop_assert_eq!(normalise_email(&variant), Some(format!("{name}@gmail.com")));
        }

        #[test]
        fn normalise_phone_is_idempotent(phone in prop_oneof![phone_like(), "\\PC{0,20}"]) {
            if let Some(once) = normalise_phone(&phone) {
                prop_assert_eq!(normalise_phone(&once), Some(once.clone()));
            }
        }

        #[test]
        fn normalise_address_is_idempotent(
            lines in prop_oneof![address_lines(), prop::collection::vec("\\PC{0,30}", 0..3)],
            postal in "[A-Za-z0-9 -]{0,8}",
            country in prop::sample::select(vec!["RO", "ro", "GB", "DE", "us", "", "FR"]),
        ) {
            if let Some(once) = normalise_address(&lines, &postal, country) {
                prop_assert_eq!(renormalise_address(&once), Some(once.clone()));
            }
        }
    }
}
