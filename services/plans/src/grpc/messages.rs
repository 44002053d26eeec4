//! Templates and rendering: plain words, help first, a way to reach a person, and the opt-out on
//! every electronic message.

use std::collections::{BTreeMap, HashMap};

use rapport_errors::Validation;
use rapport_money::{Currency, Money};
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::{Core, traced_id};
use crate::domain::templates::{self, LocaleSource, OptOut, RenderError};
use crate::error::PlansError;
use rapport_wire::reason_to_pb;

#[tracing::instrument(
    skip_all,
    fields(
        template_id = %r.template_id,
        customer_id = traced_id(&r.customer_id),
        account_id = traced_id(&r.account_id)
    )
)]
pub(crate) async fn render(
    core: &Core,
    r: pb::RenderMessageRequest,
) -> Result<pb::RenderMessageResponse, PlansError> {
    let mut v = Validation::new();
    let shipped = templates::shipped();
    let template = shipped.iter().find(|t| t.id == r.template_id);
    if template.is_none() {
        v.add(
            "template_id",
            format!(
                "is not a template; ListTemplates names them (got {:?})",
                r.template_id
            ),
        );
    }
    let named_customer = if r.customer_id.is_empty() {
        None
    } else {
        wire::id("customer_id", &r.customer_id, &mut v)
    };
    let account_id = if r.account_id.is_empty() {
        None
    } else {
        wire::id("account_id", &r.account_id, &mut v)
    };
    let amounts = money_values(&r.money_values, &r.values, &mut v);
    v.clone().finish()?;
    let template = template.ok_or(PlansError::Invalid(v))?;

    // The account says whose debt it is and whether anything is past due.
    let account = match account_id {
        Some(id) => {
            let mut conn = core.read().await?;
            Some(super::load_account(&mut conn, id).await?)
        }
        None => None,
    };
    if let (Some(account), Some(customer)) = (&account, named_customer)
        && account.customer_id != customer
    {
        return Err(PlansError::Invalid(Validation::single(
            "account_id",
            "belongs to another customer than customer_id",
        )));
    }
    let customer = named_customer.or(account.as_ref().map(|a| a.customer_id));
    // A personal opt-out link that names nobody cannot work (issue 19): refuse rather than send.
    if customer.is_none() && templates::opt_out_is_link(template.channel) {
        return Err(PlansError::Invalid(Validation::single(
            "customer_id",
            format!(
                "is required for the personal opt-out link of a {} message (or give account_id)",
                template.channel.as_str_name()
            ),
        )));
    }
    if let Some(account) = &account {
        let past_due = account.days_past_due > 0 || account.arrears > 0;
        if let Some(refusal) = templates::stage_refusal(template.stage, past_due) {
            return Err(PlansError::FailedPrecondition(format!(
                "{}: {} (template {} is {}; account {} has 0 days past due)",
                refusal.code,
                refusal.message,
                template.id,
                template.stage.as_str_name(),
                account.id
            )));
        }
    }

    let addressee = match customer {
        Some(id) => Some(core.directory.addressee(id, "customer_id").await?),
        None => None,
    };
    let (locale_requested, locale_source) =
        templates::choose_locale(&r.locale, addressee.as_ref().map(|a| a.locale.as_str()));

    let mut values: BTreeMap<String, String> = r.values.into_iter().collect();
    if let Some(addressee) = &addressee {
        templates::address_to(
            &mut values,
            &addressee.legal_name,
            &addressee.preferred_name,
        )
        .map_err(|templates::NotTheirName| {
            PlansError::Invalid(Validation::single(
                format!("values.{}", templates::NAME_PLACEHOLDER),
                "is not this customer's name in profiles (legal or preferred); leave it \
                     out and the server uses the customer's own",
            ))
        })?;
    }
    let amount_locale =
        templates::text_locale(template, &locale_requested).unwrap_or(templates::FALLBACK_LOCALE);
    for (name, amount) in amounts {
        values.insert(name, templates::format_money(amount, amount_locale));
    }

    // Personal opt-out link per customer (and account); SMS replies use the keyword.
    let mut url = core.rules.opt_out_base_url.trim_end_matches('/').to_owned();
    for part in [customer, account_id].into_iter().flatten() {
        url.push('/');
        url.push_str(&part.to_string());
    }
    let opt_out = OptOut {
        url,
        sms_keyword: core.rules.opt_out_sms_keyword.clone(),
    };
    let rendered =
        templates::render(template, &locale_requested, &values, &opt_out).map_err(|e| match e {
            RenderError::MissingValue(name) => PlansError::Invalid(Validation::single(
                format!("values.{name}"),
                "is required by this template",
            )),
            other => PlansError::Corrupt(format!("template {}: {other}", template.id)),
        })?;
    Ok(pb::RenderMessageResponse {
        subject: rendered.subject.unwrap_or_default(),
        body: rendered.body,
        locale: rendered.locale,
        channel: template.channel as i32,
        template_version: i32::try_from(template.version).unwrap_or(i32::MAX),
        opt_out_included: rendered.opt_out_included,
        reasons: rendered.reasons.iter().map(reason_to_pb).collect(),
        locale_requested,
        locale_source: match locale_source {
            LocaleSource::Request => pb::LocaleSource::Request,
            LocaleSource::Customer => pb::LocaleSource::Customer,
            LocaleSource::Fallback => pb::LocaleSource::Fallback,
        } as i32,
    })
}

/// Amounts for placeholders, checked: a known currency, not negative, and not also a string.
fn money_values(
    given: &HashMap<String, common::Money>,
    strings: &HashMap<String, String>,
    v: &mut Validation,
) -> Vec<(String, Money)> {
    let mut amounts = Vec::new();
    for (name, money) in given {
        let field = format!("money_values.{name}");
        if strings.contains_key(name) {
            v.add(field, "is also given in values; give an amount once");
            continue;
        }
        match Currency::parse(&money.currency_code) {
            Err(e) => v.add(format!("{field}.currency_code"), e.to_string()),
            Ok(_) if money.minor_units < 0 => {
                v.add(format!("{field}.minor_units"), "must not be negative")
            }
            Ok(currency) => {
                amounts.push((name.clone(), Money::from_minor(currency, money.minor_units)))
            }
        }
    }
    amounts
}

#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    r: pb::ListTemplatesRequest,
) -> Result<pb::ListTemplatesResponse, PlansError> {
    let mut v = Validation::new();
    let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
    let channel = wire::optional_enum(
        "channel",
        r.channel,
        |c| common::Channel::try_from(c).ok(),
        &mut v,
    );
    let stage = wire::optional_enum(
        "stage",
        r.stage,
        |s| pb::TemplateStage::try_from(s).ok(),
        &mut v,
    );
    if let Some(refusal) = channel.and_then(templates::no_templates_on) {
        v.add("channel", refusal);
    }
    v.finish()?;
    let after = page.after.as_ref().map(|parts| parts.join(""));
    let mut matching = templates::matching(channel, stage, &r.locale, after.as_deref());
    matching.truncate(page.fetch_limit() as usize);
    let (matching, page) = page.finish(matching, |t| vec![t.id.to_owned()]);
    Ok(pb::ListTemplatesResponse {
        templates: matching
            .iter()
            .map(|t| pb::MessageTemplate {
                template_id: t.id.to_owned(),
                name: t.name.clone(),
                channel: t.channel as i32,
                stage: t.stage as i32,
                purpose: t.purpose as i32,
                version: i32::try_from(t.version).unwrap_or(i32::MAX),
                texts: t
                    .texts
                    .iter()
                    .map(|x| pb::TemplateText {
                        locale: x.locale.to_owned(),
                        subject: x.subject.clone().unwrap_or_default(),
                        body: x.body.clone(),
                    })
                    .collect(),
                required_values: t.required_values(),
                tone_check: templates::tone_check_reasons(t)
                    .iter()
                    .map(reason_to_pb)
                    .collect(),
            })
            .collect(),
        page,
    })
}
