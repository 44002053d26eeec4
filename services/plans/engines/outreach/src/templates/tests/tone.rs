//! The tone check and the structure check.

use super::*;

/// Bad phrasings, odd casing, with and without diacritics (and cedilla and decomposed
/// forms), and the list entry each must be caught by.
pub(super) const BAD_PHRASINGS: &[(&str, &str)] = &[
    ("This is a FINAL DEMAND for the balance.", "final demand"),
    ("Final Notice: your account is overdue.", "final notice"),
    ("We may start Legal Action against you.", "legal action"),
    ("You could be taken to cOuRt.", "court"),
    ("Bailiffs will call at your home.", "bailiff*"),
    ("An Enforcement Agent may visit.", "enforcement agent*"),
    ("We will take further steps.", "we will take further"),
    (
        "Failure to pay will have consequences.",
        "failure to pay will",
    ),
    ("This is your last chance to pay.", "last chance"),
    ("A debt collector will visit you.", "debt collector*"),
    ("We may repossess your car.", "repossess*"),
    ("Your goods may be SEIZED.", "seiz*"),
    ("Pay Immediately Or we act.", "immediately or"),
    ("Pay within 24 hours or we act.", "within # hours or"),
    ("Your credit score will be ruined.", "credit score will be"),
    ("You will be blacklisted.", "blacklist*"),
    ("You could face arrest.", "arrest*"),
    ("This may be a criminal matter.", "criminal*"),
    ("Aceasta este o SOMAȚIE de plată.", "somați*"),
    ("Aceasta este o somatie de plata.", "somați*"),
    ("Aceasta este o somaţie de plată.", "somați*"),
    ("Aceasta este o somat\u{326}ie de plata\u{306}.", "somați*"),
    ("Ultimă somație!", "ultimă somație"),
    (
        "Dosarul merge la executorul judecătoresc.",
        "executor* judecătoresc*",
    ),
    (
        "Dosarul merge la EXECUTORUL JUDECATORESC.",
        "executor* judecătoresc*",
    ),
    ("Urmează acțiune în instanță.", "acțiune în instanță"),
    ("Urmeaza actiune in instanta.", "acțiune în instanță"),
    ("Vă vom chema în instanța competentă.", "instanță"),
    (
        "ULTIMA NOTIFICARE înainte de alte pași.",
        "ultima notificare",
    ),
    ("Se va dispune poprirea contului.", "poprir*"),
    ("Începem EXECUTAREA SILITĂ.", "execut* silit*"),
    ("Riscați un dosar penal.", "dosar penal"),
    ("Vom lua măsuri împotriva dumneavoastră.", "vom lua măsuri"),
    ("Vom lua masuri.", "vom lua măsuri"),
    ("Plătiți în 48 de ore sau continuăm.", "în # de ore sau"),
    ("Emprenderemos acciones legales.", "acciones legales"),
    ("Último aviso antes del pago.", "último aviso"),
    ("Ultimo aviso: procederemos al EMBARGO.", "embarg*"),
];

#[test]
fn the_tone_check_rejects_threats_and_legal_action_language() {
    assert!(BAD_PHRASINGS.len() >= 15);
    for &(bad, phrase) in BAD_PHRASINGS {
        for stage in [TemplateStage::FirstContact, TemplateStage::Early] {
            let mut template = first_contact_with(bad);
            template.stage = stage;
            template.purpose = ContactPurpose::PaymentDemand;
            let violations = tone_check(&template);
            let threat = violations
                .iter()
                .find(|v| v.code == "TONE_THREAT" && param(v, "phrase") == Some(phrase))
                .unwrap_or_else(|| panic!("{bad:?} not caught as {phrase:?}: {violations:?}"));
            assert_eq!(threat.effect, ReasonEffect::Opposes);
            assert_eq!(param(threat, "locale"), Some("en"));
            assert_eq!(param(threat, "field"), Some("body"));
            assert!(threat.rule_ref.contains("CONC 7.9"));
            assert!(threat.rule_ref.contains("1006.14"));
            assert!(threat.rule_ref.contains("1006.18"));
            assert!(register(template).is_err());
        }
    }
}

#[test]
fn threats_are_caught_in_every_locale_and_in_subjects() {
    let mut template = first_contact_email();
    template.texts[1]
        .body
        .push_str("\n\nUrmează executarea silită.");
    template.texts[2].subject = Some("Último aviso".into());
    let violations = tone_check(&template);
    let found: Vec<_> = violations
        .iter()
        .filter(|v| v.code == "TONE_THREAT")
        .map(|v| {
            (
                param(v, "locale").unwrap_or(""),
                param(v, "field").unwrap_or(""),
                param(v, "matched").unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("ro", "body", "executarea silită"),
            ("es", "subject", "Último aviso")
        ]
    );
}

#[test]
fn support_templates_at_any_stage_are_checked_for_threats() {
    let mut template = missed_installment_checkin_sms();
    template.texts[0]
        .body
        .push_str(" Otherwise we go to court.");
    assert!(codes(&tone_check(&template)).contains(&"TONE_THREAT"));
}

#[test]
fn late_payment_demands_may_name_legal_steps() {
    let template = single(
        Channel::Letter,
        TemplateStage::Late,
        ContactPurpose::PaymentDemand,
        "en",
        None,
        "Dear {first_name}, we may ask a court to decide. Call us on {agent_phone}.",
    );
    assert_eq!(tone_check(&template), vec![]);
}

#[test]
fn the_phrase_lists_have_no_duplicates_after_folding() {
    let lists = phrases();
    for list in [
        &lists.threats,
        &lists.help,
        &lists.human_contact,
        &lists.jargon,
    ] {
        let mut seen = BTreeMap::new();
        for phrase in list {
            let pattern = compile(phrase);
            assert!(!pattern.is_empty(), "{phrase:?} compiles to nothing");
            if let Some(first) = seen.insert(format!("{pattern:?}"), phrase) {
                panic!("{first:?} and {phrase:?} are the same pattern");
            }
        }
    }
}

#[test]
fn matching_respects_word_boundaries() {
    // Innocent words that contain listed ones.
    let template = first_contact_with(
        "Our staff are courteous. Your arrangement is supported. We act instantly on \
         requests, and our policy (politica) is simple. Something else? Seasonal rates \
         apply. Recuperarea durează. Penalty-free.",
    );
    assert!(
        !codes(&tone_check(&template)).contains(&"TONE_THREAT"),
        "{:?}",
        tone_check(&template)
    );
}

#[test]
fn a_first_message_must_offer_help_first_and_a_person() {
    let no_help = single(
        Channel::Sms,
        TemplateStage::FirstContact,
        ContactPurpose::Support,
        "en",
        None,
        "Hello {first_name}. Your payment is late. Call {agent_phone}.",
    );
    assert_eq!(codes(&tone_check(&no_help)), vec!["TONE_NO_HELP_OFFERED"]);

    let no_person = single(
        Channel::Sms,
        TemplateStage::FirstContact,
        ContactPurpose::Support,
        "en",
        None,
        "Hello {first_name}, we are here to help. We can agree a plan.",
    );
    let violations = tone_check(&no_person);
    assert_eq!(codes(&violations), vec!["TONE_NO_HUMAN_CONTACT"]);
    assert!(violations[0].rule_ref.contains("DESIGN.md"));

    // "call us" or "sunați-ne" is a way to reach a person too.
    let call_us = single(
        Channel::Letter,
        TemplateStage::FirstContact,
        ContactPurpose::Support,
        "en",
        None,
        "Dear {first_name}, we can help. Call us any weekday.",
    );
    assert_eq!(tone_check(&call_us), vec![]);
    let sunati = single(
        Channel::Letter,
        TemplateStage::FirstContact,
        ContactPurpose::Support,
        "ro",
        None,
        "Bună ziua, {first_name}, vă putem ajuta. Sunați-ne oricând.",
    );
    assert_eq!(tone_check(&sunati), vec![]);

    // Help only after a long preamble.
    let preamble = "Your account shows a balance. ".repeat(7);
    let late_help = single(
        Channel::Letter,
        TemplateStage::Early,
        ContactPurpose::PaymentDemand,
        "en",
        None,
        &format!("Dear {{first_name}}, {preamble}We can help. Call {{agent_phone}}."),
    );
    let violations = tone_check(&late_help);
    assert_eq!(codes(&violations), vec!["TONE_HELP_NOT_FIRST"]);
    assert_eq!(param(&violations[0], "limit"), Some("30"));

    // A subject that offers help counts as the first words.
    let subject_help = single(
        Channel::Email,
        TemplateStage::Early,
        ContactPurpose::PaymentDemand,
        "en",
        Some("We can help"),
        &format!("Dear {{first_name}}, {preamble}Call {{agent_phone}}."),
    );
    assert_eq!(tone_check(&subject_help), vec![]);

    // Service messages need a person, not an offer of help.
    let receipt = single(
        Channel::Letter,
        TemplateStage::Service,
        ContactPurpose::Support,
        "en",
        None,
        "Dear {first_name}, thank you for your payment. Call {agent_phone} with questions.",
    );
    assert_eq!(tone_check(&receipt), vec![]);
}

#[test]
fn shouting_and_exclamation_marks_are_rejected_in_every_stage() {
    let template = single(
        Channel::Letter,
        TemplateStage::Service,
        ContactPurpose::Support,
        "en",
        None,
        "Dear {first_name}, please CALL us TODAY. Quote your IBAN or reply STOP. OK? \
         Call {agent_phone}. Thanks! Really!",
    );
    let violations = tone_check(&template);
    let shouted: Vec<_> = violations
        .iter()
        .filter(|v| v.code == "TONE_SHOUTING")
        .map(|v| param(v, "word").unwrap_or(""))
        .collect();
    assert_eq!(shouted, vec!["CALL", "TODAY"]);
    let exclamation = violations
        .iter()
        .find(|v| v.code == "TONE_EXCLAMATION")
        .expect("two exclamation marks");
    assert_eq!(param(exclamation, "count"), Some("2"));

    let romanian = single(
        Channel::Letter,
        TemplateStage::Late,
        ContactPurpose::PaymentDemand,
        "ro",
        None,
        "Bună ziua, {first_name}. PLĂTIȚI acum, ȘTIȚI de ce. Sunați la {agent_phone}!",
    );
    let shouted: Vec<_> = tone_check(&romanian)
        .iter()
        .filter(|v| v.code == "TONE_SHOUTING")
        .map(|v| param(v, "word").unwrap_or("").to_owned())
        .collect();
    assert_eq!(shouted, vec!["PLĂTIȚI", "ȘTIȚI"]);
}

#[test]
fn plain_words_no_jargon_and_short_sentences_except_statutory_notices() {
    let long = vec!["word"; MAX_SENTENCE_WORDS + 1].join(" ");
    let body =
        format!("Dear {{first_name}}, your arrears are shown below. {long}. Call {{agent_phone}}.");
    let template = single(
        Channel::Letter,
        TemplateStage::Mid,
        ContactPurpose::PaymentDemand,
        "en",
        None,
        &body,
    );
    let violations = tone_check(&template);
    assert_eq!(
        codes(&violations),
        vec!["TONE_JARGON", "TONE_LONG_SENTENCE"]
    );
    assert_eq!(param(&violations[0], "matched"), Some("arrears"));
    assert_eq!(param(&violations[1], "words"), Some("31"));

    let mut statutory = template;
    statutory.purpose = ContactPurpose::StatutoryNotice;
    assert_eq!(tone_check(&statutory), vec![]);

    // Exactly the limit is fine.
    let limit = vec!["word"; MAX_SENTENCE_WORDS].join(" ");
    let ok = single(
        Channel::Letter,
        TemplateStage::Mid,
        ContactPurpose::PaymentDemand,
        "en",
        None,
        &format!("{limit}. Call {{agent_phone}}."),
    );
    assert_eq!(tone_check(&ok), vec![]);
}

#[test]
fn register_reports_every_problem_with_the_template_id() {
    let mut template = first_contact_with("FINAL NOTICE! Pay now!!");
    template.texts[0].body = template.texts[0]
        .body
        .replace("Call {agent_phone}.", "Bye.");
    let err = register(template).expect_err("refused");
    assert_eq!(err.template_id, "custom-first-contact");
    let found = codes(&err.violations);
    for code in [
        "TONE_THREAT",
        "TONE_NO_HUMAN_CONTACT",
        "TONE_SHOUTING",
        "TONE_EXCLAMATION",
    ] {
        assert!(found.contains(&code), "{code} in {found:?}");
    }
    assert!(
        err.to_string()
            .starts_with("template \"custom-first-contact\" was not registered: TONE_THREAT")
    );
    assert!(
        err.violations
            .iter()
            .all(|v| v.effect == ReasonEffect::Opposes)
    );

    // ListTemplates shows the same outcome, structural problems included.
    let mut unnamed = first_contact_with("FINAL NOTICE");
    unnamed.name = String::new();
    assert_eq!(
        codes(&tone_check_reasons(&unnamed)),
        vec![
            "TEMPLATE_NO_NAME",
            "TONE_THREAT",
            "TONE_SHOUTING",
            "TONE_SHOUTING"
        ]
    );
}

#[test]
fn structure_check_finds_malformed_templates() {
    let base = first_contact_sms();
    let check = |edit: &dyn Fn(&mut Template)| {
        let mut t = base.clone();
        edit(&mut t);
        codes(&structure_check(&t))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(check(&|_| {}), Vec::<&str>::new());
    assert_eq!(check(&|t| t.id = "First Contact"), vec!["TEMPLATE_BAD_ID"]);
    assert_eq!(check(&|t| t.version = 0), vec!["TEMPLATE_BAD_VERSION"]);
    assert_eq!(
        check(&|t| t.stage = TemplateStage::Unspecified),
        vec!["TEMPLATE_NO_STAGE"]
    );
    assert_eq!(
        check(&|t| t.purpose = ContactPurpose::Unspecified),
        vec!["TEMPLATE_NO_PURPOSE"]
    );
    assert_eq!(
        check(&|t| t.channel = Channel::Unspecified),
        vec!["TEMPLATE_NO_CHANNEL"]
    );
    assert_eq!(check(&|t| t.texts.clear()), vec!["TEMPLATE_NO_TEXT"]);
    assert_eq!(
        check(&|t| {
            t.texts.remove(0);
        }),
        vec!["TEMPLATE_NO_ENGLISH"]
    );
    assert_eq!(check(&|t| t.texts[1].locale = "RO"), Vec::<&str>::new());
    assert_eq!(
        check(&|t| t.texts[2].locale = "ro"),
        vec!["TEMPLATE_DUPLICATE_LOCALE"]
    );
    assert_eq!(
        check(&|t| t.texts[2].locale = "spanish!"),
        vec!["TEMPLATE_BAD_LOCALE", "TEMPLATE_NO_OPT_OUT_WORDING"]
    );
    assert_eq!(
        check(&|t| t.texts[2].locale = "fr"),
        vec!["TEMPLATE_NO_OPT_OUT_WORDING"]
    );
    assert_eq!(
        check(&|t| t.texts[0].subject = Some("Hi".into())),
        vec!["TEMPLATE_SUBJECT_NOT_EMAIL"]
    );
    assert_eq!(
        check(&|t| t.texts[0].body = " ".into()),
        vec![
            "TEMPLATE_EMPTY_BODY",
            "TEMPLATE_PLACEHOLDERS_DIFFER",
            "TEMPLATE_PLACEHOLDERS_DIFFER"
        ]
    );
    for bad in [
        "Hi {First_Name}",
        "Hi {first_name",
        "Hi first_name}",
        "{{first_name}}",
        "{}",
    ] {
        let problems = {
            let mut t = base.clone();
            t.texts[0].body = format!("{bad} {{agent_phone}} {{lender_name}} {{first_name}}");
            structure_check(&t)
        };
        assert_eq!(codes(&problems), vec!["TEMPLATE_BAD_PLACEHOLDER"], "{bad}");
        assert_eq!(param(&problems[0], "locale"), Some("en"));
    }
    let differ = {
        let mut t = base.clone();
        t.texts[1].body.push_str(" {account_ref}");
        structure_check(&t)
    };
    assert_eq!(codes(&differ), vec!["TEMPLATE_PLACEHOLDERS_DIFFER"]);
    assert_eq!(param(&differ[0], "locale"), Some("ro"));
    assert_eq!(
        param(&differ[0], "found"),
        Some("account_ref,agent_phone,first_name,lender_name")
    );

    let mut email = first_contact_email();
    email.texts[0].subject = None;
    email.texts[1].subject = Some(" ".into());
    assert_eq!(
        codes(&structure_check(&email)),
        vec!["TEMPLATE_NO_SUBJECT", "TEMPLATE_NO_SUBJECT"]
    );

    // Letters may be in any language: no opt-out is appended.
    let mut letter = first_contact_letter();
    letter.texts[2].locale = "fr";
    assert_eq!(structure_check(&letter), vec![]);
}
