//! Which shipped template a message uses, and which templates a listing shows.

use super::*;

/// The shipped template to use for a message on `channel` with `purpose`: a first contact that
/// offers help uses the first-contact template; a payment demand the early one.
pub fn template_for(
    channel: Channel,
    purpose: ContactPurpose,
    contacted_before: bool,
) -> Option<String> {
    let first_contact = |t: &&&Template| t.stage == TemplateStage::FirstContact;
    let candidates: Vec<&Template> = shipped().iter().filter(|t| t.channel == channel).collect();
    let chosen = match purpose {
        ContactPurpose::Support if !contacted_before => candidates.iter().find(first_contact),
        ContactPurpose::PaymentDemand => candidates
            .iter()
            .find(|t| t.stage == TemplateStage::Early)
            .or_else(|| candidates.iter().find(first_contact)),
        _ => candidates
            .iter()
            .find(|t| t.purpose == purpose)
            .or_else(|| candidates.iter().find(first_contact)),
    };
    chosen.map(|t| t.id.to_owned())
}

/// Why a listing on `channel` would be empty whatever else it asks: no template is written for
/// that channel (an empty list would read as "nothing fits today"; the truth is "never on this
/// channel"). Names the channels that have templates.
pub fn no_templates_on(channel: Channel) -> Option<String> {
    let shipped = shipped();
    if channel == Channel::Unspecified || shipped.iter().any(|t| t.channel == channel) {
        return None;
    }
    let mut with_templates: Vec<&str> = shipped.iter().map(|t| t.channel.as_str_name()).collect();
    with_templates.sort_unstable();
    with_templates.dedup();
    Some(format!(
        "no template is written for {}; templates exist for {}",
        channel.as_str_name(),
        with_templates.join(", ")
    ))
}

/// The shipped templates on `channel` at `stage` (`None` or unspecified: any) with a text in
/// the language of `locale` (empty: any), ordered by id, after the id `after` (a page's cursor).
pub fn matching(
    channel: Option<Channel>,
    stage: Option<TemplateStage>,
    locale: &str,
    after: Option<&str>,
) -> Vec<&'static Template> {
    let language = locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let mut matching: Vec<&Template> = shipped()
        .iter()
        .filter(|t| channel.is_none_or(|c| c == Channel::Unspecified || t.channel == c))
        .filter(|t| stage.is_none_or(|s| s == TemplateStage::Unspecified || t.stage == s))
        .filter(|t| {
            language.is_empty()
                || t.texts
                    .iter()
                    .any(|x| x.locale.split('-').next() == Some(language.as_str()))
        })
        .filter(|t| after.is_none_or(|a| t.id > a))
        .collect();
    matching.sort_by_key(|t| t.id);
    matching
}
