//! The shipped templates: the expected set, each registers, and what they promise.

use super::*;

#[test]
fn shipped_templates_are_the_expected_set() {
    let shipped = shipped();
    let shape: Vec<_> = shipped
        .iter()
        .map(|t| (t.id, t.channel, t.stage, t.purpose, t.locales()))
        .collect();
    use Channel::{Email, Letter, Sms};
    use ContactPurpose::{PaymentDemand, Support};
    use TemplateStage::{Early, FirstContact, Service};
    assert_eq!(
        shape,
        vec![
            (
                "first-contact-sms",
                Sms,
                FirstContact,
                Support,
                vec!["en", "ro", "es"]
            ),
            (
                "first-contact-email",
                Email,
                FirstContact,
                Support,
                vec!["en", "ro", "es"]
            ),
            (
                "first-contact-letter",
                Letter,
                FirstContact,
                Support,
                vec!["en", "ro", "es"]
            ),
            (
                "early-reminder-email",
                Email,
                Early,
                PaymentDemand,
                vec!["en", "ro"]
            ),
            (
                "early-reminder-sms",
                Sms,
                Early,
                PaymentDemand,
                vec!["en", "ro"]
            ),
            (
                "plan-confirmation-email",
                Email,
                Service,
                Support,
                vec!["en", "ro"]
            ),
            (
                "missed-installment-checkin-sms",
                Sms,
                Service,
                Support,
                vec!["en", "ro"]
            ),
            (
                "breathing-space-ack-letter",
                Letter,
                Service,
                Support,
                vec!["en", "ro"]
            ),
        ]
    );
}

#[test]
fn every_shipped_template_registers_and_passes_the_tone_check() {
    for template in shipped() {
        assert_eq!(structure_check(template), vec![], "{}", template.id);
        assert_eq!(tone_check(template), vec![], "{}", template.id);
        let reasons = tone_check_reasons(template);
        assert_eq!(
            codes(&reasons),
            vec!["TONE_CHECK_PASSED"],
            "{}",
            template.id
        );
        let id = template.id;
        assert_eq!(register(template.clone()), Ok(template.clone()), "{id}");
    }
}

#[test]
fn required_values_are_sorted_unique_and_as_documented() {
    let by_id: BTreeMap<_, _> = shipped()
        .iter()
        .map(|t| (t.id, t.required_values()))
        .collect();
    let expect = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let first = expect(&["agent_phone", "first_name", "lender_name"]);
    assert_eq!(by_id["first-contact-sms"], first);
    assert_eq!(by_id["first-contact-email"], first);
    assert_eq!(by_id["first-contact-letter"], first);
    let early = expect(&[
        "agent_phone",
        "amount_due",
        "due_date",
        "first_name",
        "lender_name",
    ]);
    assert_eq!(by_id["early-reminder-email"], early);
    assert_eq!(by_id["early-reminder-sms"], early);
    assert_eq!(
        by_id["plan-confirmation-email"],
        expect(&[
            "agent_phone",
            "first_name",
            "first_payment_date",
            "lender_name",
            "monthly_amount"
        ])
    );
    assert_eq!(
        by_id["missed-installment-checkin-sms"],
        expect(&["agent_phone", "due_date", "first_name", "lender_name"])
    );
    assert_eq!(
        by_id["breathing-space-ack-letter"],
        expect(&[
            "agent_phone",
            "breathing_space_start",
            "first_name",
            "lender_name"
        ])
    );

    // Subjects count, duplicates collapse.
    let t = single(
        Channel::Email,
        TemplateStage::Service,
        ContactPurpose::Support,
        "en",
        Some("For {z_name}"),
        "{b} {a} {b}",
    );
    assert_eq!(t.required_values(), expect(&["a", "b", "z_name"]));
}

#[test]
fn romanian_texts_use_comma_below_diacritics() {
    for template in shipped() {
        for text in template.texts.iter().filter(|t| t.locale == "ro") {
            let all = format!("{} {}", text.subject.as_deref().unwrap_or(""), text.body);
            assert!(
                all.contains(['ș', 'ț', 'ă', 'î', 'â']),
                "{} has no Romanian diacritics",
                template.id
            );
            assert!(
                !all.contains(['ş', 'ţ', 'Ş', 'Ţ']),
                "{} uses cedilla forms",
                template.id
            );
        }
    }
}

#[test]
fn first_contact_templates_open_with_help_and_give_a_person_and_a_call_back() {
    for template in shipped()
        .iter()
        .filter(|t| t.stage == TemplateStage::FirstContact)
    {
        assert_eq!(template.purpose, ContactPurpose::Support);
        for text in &template.texts {
            let body = &text.body;
            assert!(
                body.contains("{agent_phone}"),
                "{} {}",
                template.id,
                text.locale
            );
            let folded: String = tokens(body)
                .iter()
                .map(|t| t.folded.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let mentions = |words: &[&str]| words.iter().any(|w| folded.contains(w));
            assert!(
                mentions(&[
                    "free debt advice",
                    "free independent debt advice",
                    "gratuit",
                    "gratuito"
                ]),
                "{} {}: free debt advice",
                template.id,
                text.locale
            );
            assert!(
                mentions(&["plan"]),
                "{} {}: a plan",
                template.id,
                text.locale
            );
            assert!(
                mentions(&[
                    "call you back",
                    "va sunam noi",
                    "le llamaremos",
                    "le llamemos"
                ]),
                "{} {}: a call back",
                template.id,
                text.locale
            );
        }
    }
}

// ------------------------------------------------------------ data files

/// The engine's own `templates/` directory, the files the shipped set embeds.
fn shipped_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// A temporary template directory holding a copy of the shipped `first-contact-sms.toml`, with
/// `edit` applied to its text.
fn edited_copy(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let original = std::fs::read_to_string(shipped_dir().join("first-contact-sms.toml"))
        .unwrap_or_else(|e| panic!("shipped file: {e}"));
    let edited = edit(original.clone());
    assert_ne!(edited, original, "the edit changed nothing");
    std::fs::write(dir.path().join("first-contact-sms.toml"), edited)
        .unwrap_or_else(|e| panic!("write: {e}"));
    dir
}

#[test]
fn the_shipped_directory_loads_as_the_embedded_set() {
    let mut from_dir =
        load_dir(&shipped_dir()).unwrap_or_else(|e| panic!("the shipped directory: {e}"));
    let mut embedded = shipped().to_vec();
    from_dir.sort_by_key(|t| t.id);
    embedded.sort_by_key(|t| t.id);
    assert_eq!(from_dir, embedded);
    assert_eq!(load_shipped().ok().as_deref(), Some(shipped()));
}

#[test]
fn an_edited_template_directory_changes_the_words_of_the_rendered_message() {
    let dir = edited_copy(|text| {
        text.replace(
            "Hello {first_name}, {lender_name} here.",
            "Hi {first_name}, this is {lender_name}.",
        )
    });
    let loaded = load_dir(dir.path()).unwrap_or_else(|e| panic!("edited directory: {e}"));
    assert_eq!(loaded.len(), 1);
    let template = &loaded[0];
    assert_eq!(template.id, "first-contact-sms");

    let mut values = values_for(template);
    values.insert("first_name".into(), "Ana".into());
    values.insert("lender_name".into(), "Rapport Bank".into());
    let rendered =
        render(template, "en", &values, &opt_out()).unwrap_or_else(|e| panic!("render: {e}"));
    assert!(
        rendered
            .body
            .starts_with("Hi Ana, this is Rapport Bank. If money is tight right now"),
        "{}",
        rendered.body
    );
    assert!(
        rendered.body.ends_with("\nReply STOP to opt out."),
        "{}",
        rendered.body
    );
    // The other locales and the shipped set are untouched.
    let ro = render(template, "ro", &values, &opt_out()).unwrap_or_else(|e| panic!("{e}"));
    let shipped_ro =
        render(&first_contact_sms(), "ro", &values, &opt_out()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ro.body, shipped_ro.body);
    assert!(
        first_contact_sms().texts[0]
            .body
            .starts_with("Hello {first_name}, {lender_name} here.")
    );
}

#[test]
fn a_template_file_that_fails_the_tone_check_is_refused_naming_the_file() {
    let dir = edited_copy(|text| {
        text.replace(
            "we are here to help.",
            "we are here to help. Pay now or we will take legal action.",
        )
    });
    let refused = load_dir(dir.path()).expect_err("a threat in a first contact");
    let message = refused.to_string();
    assert!(message.contains("first-contact-sms.toml"), "{message}");
    assert!(message.contains("TONE_THREAT"), "{message}");
    assert!(message.contains("legal action"), "{message}");
    let violations = refused
        .refusal()
        .map(|r| r.violations.clone())
        .unwrap_or_default();
    let codes = codes(&violations);
    assert!(codes.contains(&"TONE_THREAT"), "{codes:?}");
}

#[test]
fn a_template_file_without_opt_out_wording_for_a_locale_is_refused_naming_the_file() {
    let dir = edited_copy(|text| {
        text + r#"
[[texts]]
locale = "fr"
body = """
Bonjour {first_name}, ici {lender_name}. Nous sommes là pour vous aider. Appelez le \
{agent_phone} pour parler à une personne."""
"#
    });
    let refused = load_dir(dir.path()).expect_err("an SMS in a language with no opt-out wording");
    let message = refused.to_string();
    assert!(message.contains("first-contact-sms.toml"), "{message}");
    assert!(message.contains("TEMPLATE_NO_OPT_OUT_WORDING"), "{message}");
}

#[test]
fn unparsable_unknown_misnamed_and_missing_template_files_are_refused_naming_the_file() {
    let broken = edited_copy(|text| text.replace("version = 1", "version = \"one\""));
    let message = load_dir(broken.path()).expect_err("bad TOML").to_string();
    assert!(
        message.contains("first-contact-sms.toml: not a template file"),
        "{message}"
    );

    let unknown = edited_copy(|text| text.replace("CHANNEL_SMS", "CHANNEL_PIGEON"));
    let message = load_dir(unknown.path())
        .expect_err("unknown channel")
        .to_string();
    assert!(
        message.contains("first-contact-sms.toml: channel \"CHANNEL_PIGEON\""),
        "{message}"
    );

    let dir = edited_copy(|text| text.replace("Hello {first_name}", "Hi {first_name}"));
    let copy = dir.path().join("first-contact-sms.toml");
    std::fs::copy(&copy, dir.path().join("another.toml")).unwrap_or_else(|e| panic!("{e}"));
    let message = load_dir(dir.path()).expect_err("misnamed").to_string();
    assert!(
        message.contains("another.toml: the file of template \"first-contact-sms\" must be named"),
        "{message}"
    );

    let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let message = load_dir(empty.path()).expect_err("no files").to_string();
    assert!(message.contains("no template files"), "{message}");
}
