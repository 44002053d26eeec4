//! RenderMessage and ListTemplates through the client, with profiles beside plans: an opt-out
//! that works, the customer's own language and name, no collections words without arrears.

use std::collections::HashMap;

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{money, start, violated_fields};

/// The values the first-contact templates need, without the customer's name.
fn help_values() -> HashMap<String, String> {
    [
        ("lender_name", "Example Bank"),
        ("agent_phone", "+40 21 000 0000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn request(template_id: &str, customer_id: &str, account_id: &str) -> pb::RenderMessageRequest {
    pb::RenderMessageRequest {
        template_id: template_id.into(),
        values: help_values(),
        customer_id: customer_id.into(),
        account_id: account_id.into(),
        ..Default::default()
    }
}

async fn an_email_without_a_customer_is_refused_rather_than_sent_with_a_dead_opt_out(
    database: TestDatabase,
) {
    let plans = start(database).await;
    let mut outreach = plans.plans_outreach();
    let mut without_customer = request("first-contact-email", "", "");
    without_customer
        .values
        .insert("first_name".into(), "Ana".into());
    let refused = outreach.render_message(without_customer).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violated_fields(&refused), vec!["customer_id"]);

    let rendered = outreach
        .render_message(request("first-contact-email", &plans.customer_id, ""))
        .await
        .unwrap()
        .into_inner();
    let link = format!("https://bank.example/opt-out/{}", plans.customer_id);
    assert!(rendered.body.contains(&link), "{}", rendered.body);
    assert!(!rendered.body.contains("//\n") && !rendered.body.ends_with('/'));
}
backend_tests!(an_email_without_a_customer_is_refused_rather_than_sent_with_a_dead_opt_out);

async fn a_romanian_customer_gets_romanian_when_the_request_names_no_locale(
    database: TestDatabase,
) {
    let plans = start(database).await;
    let mut outreach = plans.plans_outreach();
    // The harness customer, Ana Ionescu, is ro-RO in profiles.
    let from_customer = outreach
        .render_message(request("first-contact-email", &plans.customer_id, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(from_customer.locale, "ro");
    assert_eq!(from_customer.locale_requested, "ro-RO");
    assert_eq!(from_customer.locale_source(), pb::LocaleSource::Customer);
    assert!(from_customer.body.contains("Ana"), "{}", from_customer.body);

    let mut asked = request("first-contact-email", &plans.customer_id, "");
    asked.locale = "es".into();
    let from_request = outreach.render_message(asked).await.unwrap().into_inner();
    assert_eq!(from_request.locale, "es");
    assert_eq!(from_request.locale_source(), pb::LocaleSource::Request);

    let mut nobody = request("first-contact-sms", "", "");
    nobody.values.insert("first_name".into(), "Ana".into());
    let fallback = outreach.render_message(nobody).await.unwrap().into_inner();
    assert_eq!(fallback.locale, "en");
    assert_eq!(fallback.locale_source(), pb::LocaleSource::Fallback);
}
backend_tests!(a_romanian_customer_gets_romanian_when_the_request_names_no_locale);

async fn a_name_that_is_not_the_customers_is_refused(database: TestDatabase) {
    let plans = start(database).await;
    let mut outreach = plans.plans_outreach();
    let mut wrong = request("first-contact-sms", &plans.customer_id, "");
    wrong.values.insert("first_name".into(), "Alex".into());
    let refused = outreach.render_message(wrong).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violated_fields(&refused), vec!["values.first_name"]);

    for name in ["Ana", "ana", "Ana Ionescu"] {
        let mut right = request("first-contact-sms", &plans.customer_id, "");
        right.values.insert("first_name".into(), name.into());
        let rendered = outreach.render_message(right).await.unwrap().into_inner();
        assert!(rendered.body.contains(name), "{}", rendered.body);
    }
}
backend_tests!(a_name_that_is_not_the_customers_is_refused);

async fn collections_templates_refuse_an_account_with_nothing_past_due(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("RON", 500_000, 20_000).await;
    let mut outreach = plans.plans_outreach();
    let mut values = help_values();
    values.insert("amount_due".into(), "200,00 RON".into());
    values.insert("due_date".into(), "15 martie".into());
    let mut early = request(
        "early-reminder-email",
        &plans.customer_id,
        &account.account_id,
    );
    early.values = values.clone();
    let refused = outreach.render_message(early.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("NOTHING_PAST_DUE"),
        "{refused:?}"
    );
    let first = outreach
        .render_message(request(
            "first-contact-sms",
            &plans.customer_id,
            &account.account_id,
        ))
        .await
        .unwrap_err();
    assert_eq!(first.code(), Code::FailedPrecondition, "{first:?}");

    // A service message is not collections contact.
    let mut checkin = request(
        "missed-installment-checkin-sms",
        &plans.customer_id,
        &account.account_id,
    );
    checkin.values = values.clone();
    outreach
        .render_message(checkin)
        .await
        .expect("a check-in needs no arrears");

    plans
        .arrears(&account.account_id, 10, money("RON", 20_000))
        .await;
    let sent = outreach.render_message(early).await.unwrap().into_inner();
    assert!(sent.opt_out_included);
}
backend_tests!(collections_templates_refuse_an_account_with_nothing_past_due);

async fn amounts_are_money_formatted_by_the_server_for_the_customers_locale(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let account = plans.account("RON", 500_000, 20_000).await;
    plans
        .arrears(&account.account_id, 10, money("RON", 123_456))
        .await;
    let mut outreach = plans.plans_outreach();
    let mut reminder = request(
        "early-reminder-sms",
        &plans.customer_id,
        &account.account_id,
    );
    reminder
        .values
        .insert("due_date".into(), "15 martie".into());
    reminder
        .money_values
        .insert("amount_due".into(), money("RON", 123_456));
    let rendered = outreach
        .render_message(reminder.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rendered.locale, "ro");
    assert!(rendered.body.contains("1.234,56 RON"), "{}", rendered.body);

    reminder.locale = "en".into();
    let english = outreach.render_message(reminder.clone()).await.unwrap();
    assert!(
        english.get_ref().body.contains("RON 1,234.56"),
        "{english:?}"
    );

    let mut twice = reminder.clone();
    twice.values.insert("amount_due".into(), "1234.56".into());
    let refused = outreach.render_message(twice).await.unwrap_err();
    assert_eq!(violated_fields(&refused), vec!["money_values.amount_due"]);

    let mut unknown = reminder;
    unknown
        .money_values
        .insert("amount_due".into(), money("XYZ", 100));
    let refused = outreach.render_message(unknown).await.unwrap_err();
    assert_eq!(
        violated_fields(&refused),
        vec!["money_values.amount_due.currency_code"]
    );
}
backend_tests!(amounts_are_money_formatted_by_the_server_for_the_customers_locale);

async fn a_channel_without_templates_is_refused_by_name(database: TestDatabase) {
    let plans = start(database).await;
    let mut outreach = plans.plans_outreach();
    for channel in [
        common::Channel::InApp,
        common::Channel::Push,
        common::Channel::Phone,
    ] {
        let refused = outreach
            .list_templates(pb::ListTemplatesRequest {
                channel: channel as i32,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{channel:?}");
        assert_eq!(violated_fields(&refused), vec!["channel"]);
        assert!(refused.message().contains("CHANNEL_SMS"), "{refused:?}");
    }
    let sms = outreach
        .list_templates(pb::ListTemplatesRequest {
            channel: common::Channel::Sms as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!sms.templates.is_empty());
}
backend_tests!(a_channel_without_templates_is_refused_by_name);
