//! Properties over random values, locales and texts.

use super::rendering::expected_opt_out_line;
use super::tone::BAD_PHRASINGS;
use super::*;

fn value() -> impl Strategy<Value = String> {
    // Plain text without braces, not blank.
    "[^{}\\s][^{}]{0,24}"
}

fn locale_request() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("en".to_owned()),
        Just("ro".to_owned()),
        Just("es".to_owned()),
        Just("ro-RO".to_owned()),
        Just("es_MX".to_owned()),
        Just("de".to_owned()),
        Just(String::new()),
        "[a-zA-Z_-]{0,8}",
    ]
}

/// Strips Romanian and Spanish diacritics, as a customer's keyboard might.
fn strip_diacritics(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ș' | 'ş' => 's',
            'Ș' | 'Ş' => 'S',
            'ț' | 'ţ' => 't',
            'Ț' | 'Ţ' => 'T',
            'ă' | 'â' | 'á' => 'a',
            'Ă' | 'Â' | 'Á' => 'A',
            'î' | 'í' => 'i',
            'Î' | 'Í' => 'I',
            'é' => 'e',
            'ó' => 'o',
            'ú' => 'u',
            'Ú' => 'U',
            other => other,
        })
        .filter(|c| !is_combining_mark(*c))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With every required value given (plain text without braces), no placeholder is left
    /// behind, every value appears, and electronic channels end with their opt-out line.
    #[test]
    fn rendering_replaces_every_placeholder_and_keeps_the_opt_out(
        index in 0usize..8,
        locale in locale_request(),
        raw_values in proptest::collection::vec(value(), 8),
        extra in proptest::collection::btree_map("[a-z_]{1,12}", value(), 0..4),
        url in "[^{}\\s]{1,40}",
        keyword in "[A-Z]{2,8}",
    ) {
        let template = &shipped()[index];
        let mut values = extra;
        for (name, value) in template.required_values().into_iter().zip(raw_values) {
            values.insert(name, value);
        }
        let opt_out = OptOut { url, sms_keyword: keyword };
        let rendered = render(template, &locale, &values, &opt_out).expect("renders");
        let subject = rendered.subject.as_deref().unwrap_or("");
        prop_assert!(!rendered.body.contains(['{', '}']), "left in body: {:?}", rendered.body);
        prop_assert!(!subject.contains(['{', '}']), "left in subject: {:?}", subject);
        let all = format!("{}\n{}", rendered.subject.as_deref().unwrap_or(""), rendered.body);
        for name in template.required_values() {
            prop_assert!(all.contains(values[&name].as_str()), "{} missing", name);
        }
        prop_assert_eq!(rendered.opt_out_included, template.is_electronic());
        if template.is_electronic() {
            let line = expected_opt_out_line(template.channel, &rendered.locale, &opt_out);
            prop_assert!(rendered.body.ends_with(&line));
        }
        prop_assert!(template.locales().contains(&rendered.locale.as_str()));
    }

    /// Any bad phrasing, in any casing, with or without diacritics, is still caught.
    #[test]
    fn threats_are_caught_whatever_the_casing_and_diacritics(
        index in 0..BAD_PHRASINGS.len(),
        flips in proptest::collection::vec(any::<bool>(), 64),
        strip in any::<bool>(),
    ) {
        let (bad, phrase) = BAD_PHRASINGS[index];
        let cased: String = bad
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, &upper)| if upper { c.to_uppercase().collect::<String>() } else { c.to_lowercase().collect() })
            .collect();
        let written = if strip { strip_diacritics(&cased) } else { cased };
        let violations = tone_check(&first_contact_with(&written));
        prop_assert!(
            violations.iter().any(|v| v.code == "TONE_THREAT" && param(v, "phrase") == Some(phrase)),
            "{:?} not caught as {:?}", written, phrase
        );
    }

    /// Whatever a registered-at-run-time template says, checking and rendering it never
    /// panics.
    #[test]
    fn checks_and_rendering_never_panic(body in any::<String>(), subject in proptest::option::of(any::<String>())) {
        let template = single(
            Channel::Email,
            TemplateStage::FirstContact,
            ContactPurpose::Support,
            "en",
            subject.as_deref(),
            &body,
        );
        let _ = tone_check(&template);
        let _ = structure_check(&template);
        let _ = register(template.clone());
        let _ = render(&template, "en", &BTreeMap::new(), &opt_out());
    }
}
