//! Template tests, one file per concern; the shared fixtures are here.

use super::*;
use proptest::prelude::*;

fn text(locale: &'static str, subject: Option<&str>, body: &str) -> Text {
    Text {
        locale,
        subject: subject.map(str::to_owned),
        body: body.to_owned(),
    }
}

/// A shipped template, as loaded from its data file.
fn shipped_template(id: &str) -> Template {
    shipped()
        .iter()
        .find(|t| t.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no shipped template {id}"))
}

fn first_contact_sms() -> Template {
    shipped_template("first-contact-sms")
}

fn first_contact_email() -> Template {
    shipped_template("first-contact-email")
}

fn first_contact_letter() -> Template {
    shipped_template("first-contact-letter")
}

fn early_reminder_email() -> Template {
    shipped_template("early-reminder-email")
}

fn early_reminder_sms() -> Template {
    shipped_template("early-reminder-sms")
}

fn plan_confirmation_email() -> Template {
    shipped_template("plan-confirmation-email")
}

fn missed_installment_checkin_sms() -> Template {
    shipped_template("missed-installment-checkin-sms")
}

fn codes(reasons: &[Explanation]) -> Vec<&str> {
    reasons.iter().map(|r| r.code.as_ref()).collect()
}

fn param<'a>(reason: &'a Explanation, key: &str) -> Option<&'a str> {
    reason
        .params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn opt_out() -> OptOut {
    OptOut {
        url: "https://example.test/o/abc123".into(),
        sms_keyword: "STOP".into(),
    }
}

fn values_for(template: &Template) -> BTreeMap<String, String> {
    template
        .required_values()
        .into_iter()
        .map(|name| {
            let value = format!("<{name}>");
            (name, value)
        })
        .collect()
}

/// A first-contact SMS that passes, with `extra` added to its English body.
fn first_contact_with(extra: &str) -> Template {
    Template {
        id: "custom-first-contact",
        name: "custom".into(),
        channel: Channel::Sms,
        stage: TemplateStage::FirstContact,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![text(
            "en",
            None,
            &format!("Hello {{first_name}}, we are here to help. Call {{agent_phone}}. {extra}"),
        )],
    }
}

fn single(
    channel: Channel,
    stage: TemplateStage,
    purpose: ContactPurpose,
    locale: &'static str,
    subject: Option<&str>,
    body: &str,
) -> Template {
    Template {
        id: "custom",
        name: "custom".into(),
        channel,
        stage,
        purpose,
        version: 1,
        texts: vec![text(locale, subject, body)],
    }
}

mod addressing;
mod properties;
mod rendering;
mod shipped;
mod tone;
