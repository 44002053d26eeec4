//! Rendering: placeholders, locales and the opt-out line.

use super::*;

pub(super) fn expected_opt_out_line(channel: Channel, locale: &str, opt_out: &OptOut) -> String {
    let (k, u) = (&opt_out.sms_keyword, &opt_out.url);
    match (channel, language(locale).as_str()) {
        (Channel::Sms, "ro") => format!("Răspundeți {k} pentru dezabonare."),
        (Channel::Sms, "es") => format!("Responda {k} para darse de baja."),
        (Channel::Sms, _) => format!("Reply {k} to opt out."),
        (Channel::Email, "ro") => {
            format!("Pentru a nu mai primi e-mailuri despre acest cont: {u}")
        }
        (Channel::Email, "es") => {
            format!("Para dejar de recibir correos sobre esta cuenta: {u}")
        }
        (Channel::Email, _) => format!("To stop emails about this account: {u}"),
        other => panic!("no expected line for {other:?}"),
    }
}

#[test]
fn every_shipped_electronic_template_renders_with_the_opt_out_in_every_locale() {
    let opt_out = opt_out();
    let mut rendered_electronic = 0;
    for template in shipped() {
        let values = values_for(template);
        for locale in template.locales() {
            let rendered = render(template, locale, &values, &opt_out).expect("renders");
            assert_eq!(rendered.locale, locale);
            assert!(!rendered.body.contains(['{', '}']), "{}", rendered.body);
            if template.is_electronic() {
                rendered_electronic += 1;
                let line = expected_opt_out_line(template.channel, locale, &opt_out);
                assert!(
                    rendered.body.ends_with(&line),
                    "{} {locale}: {:?}",
                    template.id,
                    rendered.body
                );
                assert!(rendered.opt_out_included);
                let reason = rendered
                    .reasons
                    .iter()
                    .find(|r| r.code == "OPT_OUT_INCLUDED")
                    .expect("explained");
                assert_eq!(reason.effect, ReasonEffect::Supports);
                assert!(reason.rule_ref.contains("1006.6(e)"));
                assert_eq!(param(reason, "locale"), Some(locale));
            } else {
                assert!(!rendered.opt_out_included);
                assert!(!rendered.body.contains(&opt_out.url));
                assert_eq!(codes(&rendered.reasons), vec!["OPT_OUT_NOT_APPLICABLE"]);
            }
            assert_eq!(
                rendered.subject.is_some(),
                template.channel == Channel::Email
            );
        }
    }
    assert_eq!(rendered_electronic, 3 + 3 + 2 + 2 + 2 + 2);
}

#[test]
fn rendering_fills_placeholders_verbatim_and_ignores_unknown_values() {
    let template = plan_confirmation_email();
    let mut values = values_for(&template);
    values.insert("first_name".into(), "Ștefan <b>&</b>".into());
    values.insert("monthly_amount".into(), "£45.00".into());
    values.insert("first_payment_date".into(), "15 May 2026".into());
    values.insert("unused".into(), "ignored".into());
    // A value that looks like a placeholder is not expanded again.
    values.insert("lender_name".into(), "{agent_phone}".into());
    let rendered = render(&template, "en", &values, &opt_out()).expect("renders");
    assert_eq!(
        rendered.subject.as_deref(),
        Some("Your payment plan is set up")
    );
    assert!(rendered.body.starts_with("Hello Ștefan <b>&</b>,\n\n"));
    assert!(
        rendered
            .body
            .contains("- Monthly payment: £45.00\n- First payment: 15 May 2026\n")
    );
    assert!(
        rendered
            .body
            .contains("Kind regards,\n{agent_phone}\n\nTo stop emails")
    );
    assert!(!rendered.body.contains("ignored"));
    assert_eq!(rendered.reasons.len(), 1);
}

#[test]
fn the_locale_falls_back_to_the_same_language_then_english() {
    let template = first_contact_sms();
    let values = values_for(&template);
    let case = |locale: &str| {
        let r = render(&template, locale, &values, &opt_out()).expect("renders");
        let fallback: Vec<_> = r
            .reasons
            .iter()
            .filter(|r| r.code.starts_with("LOCALE_"))
            .map(|r| {
                (
                    r.code.to_string(),
                    r.effect,
                    param(r, "used").unwrap_or("").to_owned(),
                )
            })
            .collect();
        (r.locale, fallback)
    };
    let neutral =
        |code: &str, used: &str| vec![(code.to_owned(), ReasonEffect::Neutral, used.to_owned())];
    assert_eq!(case("ro"), ("ro".into(), vec![]));
    assert_eq!(case("RO"), ("ro".into(), vec![]));
    assert_eq!(
        case("ro-RO"),
        ("ro".into(), neutral("LOCALE_SAME_LANGUAGE", "ro"))
    );
    assert_eq!(
        case("ro_MD"),
        ("ro".into(), neutral("LOCALE_SAME_LANGUAGE", "ro"))
    );
    assert_eq!(
        case("es-MX"),
        ("es".into(), neutral("LOCALE_SAME_LANGUAGE", "es"))
    );
    assert_eq!(
        case("de-DE"),
        ("en".into(), neutral("LOCALE_FALLBACK_ENGLISH", "en"))
    );
    assert_eq!(
        case(""),
        ("en".into(), neutral("LOCALE_FALLBACK_ENGLISH", "en"))
    );
    assert_eq!(
        case("en-GB"),
        ("en".into(), neutral("LOCALE_SAME_LANGUAGE", "en"))
    );

    // A template without Spanish answers Spanish in English, with the English opt-out.
    let early = early_reminder_sms();
    let r = render(&early, "es-ES", &values_for(&early), &opt_out()).expect("renders");
    assert_eq!(r.locale, "en");
    assert!(r.body.ends_with("Reply STOP to opt out."));
    assert_eq!(
        codes(&r.reasons),
        vec!["LOCALE_FALLBACK_ENGLISH", "OPT_OUT_INCLUDED"]
    );
    assert!(r.reasons[0].message.contains("es-ES"));

    // The closest same-language text: "en-GB" asked of a template with "en-US" and "en-GB".
    let mut regional = first_contact_letter();
    regional.texts[0].locale = "en-US";
    regional.texts.push(text(
        "en-GB",
        None,
        "Dear {first_name}, we can help. {agent_phone} {lender_name}",
    ));
    let r = render(&regional, "en-gb", &values_for(&regional), &opt_out()).expect("renders");
    assert_eq!(r.locale, "en-GB");
    let r = render(&regional, "fr", &values_for(&regional), &opt_out()).expect("renders");
    assert_eq!(r.locale, "en-US");
}

#[test]
fn a_missing_or_blank_value_names_the_placeholder() {
    let template = early_reminder_email();
    let mut values = values_for(&template);
    values.remove("due_date");
    let err = render(&template, "ro", &values, &opt_out()).expect_err("missing");
    assert_eq!(err, RenderError::MissingValue("due_date".into()));
    assert_eq!(err.to_string(), "missing value for {due_date}");

    let mut values = values_for(&template);
    values.insert("first_name".into(), "  ".into());
    assert_eq!(
        render(&template, "en", &values, &opt_out()),
        Err(RenderError::MissingValue("first_name".into()))
    );

    // The first missing name in sorted order, whatever the locale.
    assert_eq!(
        render(&template, "en", &BTreeMap::new(), &opt_out()),
        Err(RenderError::MissingValue("agent_phone".into()))
    );
}

#[test]
fn an_electronic_message_is_never_rendered_without_its_opt_out() {
    let sms = first_contact_sms();
    let email = first_contact_email();
    let blank_keyword = OptOut {
        sms_keyword: " ".into(),
        ..opt_out()
    };
    let blank_url = OptOut {
        url: String::new(),
        ..opt_out()
    };
    assert_eq!(
        render(&sms, "en", &values_for(&sms), &blank_keyword),
        Err(RenderError::MissingOptOut("sms_keyword"))
    );
    assert_eq!(
        render(&email, "en", &values_for(&email), &blank_url),
        Err(RenderError::MissingOptOut("url"))
    );
    // Each channel needs only its own part; letters need neither.
    assert!(render(&sms, "en", &values_for(&sms), &blank_url).is_ok());
    assert!(render(&email, "en", &values_for(&email), &blank_keyword).is_ok());
    let letter = first_contact_letter();
    let none = OptOut {
        url: String::new(),
        sms_keyword: String::new(),
    };
    assert!(render(&letter, "en", &values_for(&letter), &none).is_ok());
}

#[test]
fn every_electronic_channel_gets_an_opt_out_line() {
    let cases = [
        (Channel::Sms, "en", "\nReply STOP to opt out."),
        (
            Channel::Messaging,
            "ro",
            "\nRăspundeți STOP pentru dezabonare.",
        ),
        (
            Channel::Email,
            "es",
            "\n\nPara dejar de recibir correos sobre esta cuenta: https://example.test/o/abc123",
        ),
        (
            Channel::InApp,
            "en",
            "\n\nTo stop these messages: https://example.test/o/abc123",
        ),
        (
            Channel::Push,
            "ro",
            "\n\nPentru a nu mai primi aceste mesaje: https://example.test/o/abc123",
        ),
        (
            Channel::WebChat,
            "es",
            "\n\nPara dejar de recibir estos mensajes: https://example.test/o/abc123",
        ),
    ];
    for (channel, locale, ending) in cases {
        let subject = (channel == Channel::Email).then_some("Hi");
        let template = single(
            channel,
            TemplateStage::Service,
            ContactPurpose::Support,
            locale,
            subject,
            "Call {agent_phone}.\n",
        );
        let values = BTreeMap::from([("agent_phone".to_owned(), "0800 000 000".to_owned())]);
        let r = render(&template, locale, &values, &opt_out()).expect("renders");
        assert_eq!(r.body, format!("Call 0800 000 000.{ending}"), "{channel:?}");
        assert!(r.opt_out_included);
        assert!(is_electronic(channel));
    }
    for channel in [
        Channel::Phone,
        Channel::Letter,
        Channel::Web,
        Channel::Branch,
        Channel::Visit,
        Channel::Video,
    ] {
        assert!(!is_electronic(channel), "{channel:?}");
    }

    // An unregistered text in a language without wording still gets an opt-out, in English.
    let french = single(
        Channel::Sms,
        TemplateStage::Service,
        ContactPurpose::Support,
        "fr",
        None,
        "Appelez-nous.",
    );
    let r = render(&french, "fr", &BTreeMap::new(), &opt_out()).expect("renders");
    assert!(r.body.ends_with("\nReply STOP to opt out."));
    assert_eq!(
        codes(&r.reasons),
        vec!["OPT_OUT_INCLUDED", "OPT_OUT_WORDING_FALLBACK"]
    );
}

#[test]
fn an_unregistered_malformed_template_is_an_error_not_a_panic() {
    let bad = single(
        Channel::Letter,
        TemplateStage::Service,
        ContactPurpose::Support,
        "en",
        None,
        "Hello {first name}",
    );
    assert!(matches!(
        render(&bad, "en", &BTreeMap::new(), &opt_out()),
        Err(RenderError::MalformedTemplate { .. })
    ));
    let empty = Template {
        texts: vec![],
        ..bad
    };
    assert_eq!(
        render(&empty, "en", &BTreeMap::new(), &opt_out()),
        Err(RenderError::NoText)
    );
}
