//! Templates and rendering: plain words, help first, a way to reach a person, and the opt-out on
//! every electronic message.

use std::collections::BTreeMap;

use rapport_errors::Validation;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::Core;
use super::hardship::reason_to_pb;
use crate::domain::templates::{self, OptOut, RenderError, Template};
use crate::error::PlansError;

/// The shipped template to use for a message on `channel` with `purpose`.
pub(crate) fn template_for(
    channel: common::Channel,
    purpose: pb::ContactPurpose,
    contacted_before: bool,
) -> Option<String> {
    let shipped = templates::shipped();
    let first_contact = |t: &&&Template| t.stage == pb::TemplateStage::FirstContact;
    let candidates: Vec<&Template> = shipped.iter().filter(|t| t.channel == channel).collect();
    let chosen = match purpose {
        pb::ContactPurpose::Support if !contacted_before => candidates.iter().find(first_contact),
        pb::ContactPurpose::PaymentDemand => candidates
            .iter()
            .find(|t| t.stage == pb::TemplateStage::Early)
            .or_else(|| candidates.iter().find(first_contact)),
        _ => candidates
            .iter()
            .find(|t| t.purpose == purpose)
            .or_else(|| candidates.iter().find(first_contact)),
    };
    chosen.map(|t| t.id.to_owned())
}

#[tracing::instrument(skip_all)]
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
    let customer = if r.customer_id.is_empty() {
        None
    } else {
        wire::id("customer_id", &r.customer_id, &mut v)
    };
    let account = if r.account_id.is_empty() {
        None
    } else {
        wire::id("account_id", &r.account_id, &mut v)
    };
    v.clone().finish()?;
    let template = template.ok_or(PlansError::Invalid(v))?;
    let locale = if r.locale.is_empty() {
        templates::FALLBACK_LOCALE
    } else {
        r.locale.as_str()
    };
    let values: BTreeMap<String, String> = r.values.into_iter().collect();
    // Personal opt-out link per customer and account; SMS replies use the keyword.
    let opt_out = OptOut {
        url: format!(
            "{}/{}/{}",
            core.rules.opt_out_base_url.trim_end_matches('/'),
            customer.map(|c| c.to_string()).unwrap_or_default(),
            account.map(|a| a.to_string()).unwrap_or_default()
        ),
        sms_keyword: core.rules.opt_out_sms_keyword.clone(),
    };
    let rendered = templates::render(template, locale, &values, &opt_out).map_err(|e| match e {
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
    })
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
    let after = page.after.as_ref().map(|parts| parts.join(""));
    v.finish()?;
    let language = r
        .locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let mut matching: Vec<Template> = templates::shipped()
        .into_iter()
        .filter(|t| channel.is_none_or(|c| c == common::Channel::Unspecified || t.channel == c))
        .filter(|t| stage.is_none_or(|s| s == pb::TemplateStage::Unspecified || t.stage == s))
        .filter(|t| {
            language.is_empty()
                || t.texts
                    .iter()
                    .any(|x| x.locale.split('-').next() == Some(language.as_str()))
        })
        .filter(|t| after.as_deref().is_none_or(|a| t.id > a))
        .collect();
    matching.sort_by_key(|t| t.id);
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
