//! A template, its texts, and what registering and rendering one answer.

use super::*;

/// A message template (`rapport.plans.v1.MessageTemplate` without the computed fields:
/// `required_values` is [`Template::required_values`], `tone_check` is [`tone_check_reasons`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Stable, lowercase kebab case, e.g. `first-contact-sms`.
    pub id: &'static str,
    /// For people choosing a template.
    pub name: String,
    pub channel: Channel,
    pub stage: TemplateStage,
    pub purpose: ContactPurpose,
    /// Starts at 1; a changed text is a new version.
    pub version: u32,
    pub texts: Vec<Text>,
}

/// A template's words in one locale (`rapport.plans.v1.TemplateText`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// BCP 47: `en`, `ro`, `es`, `en-GB`.
    pub locale: &'static str,
    /// Email only.
    pub subject: Option<String>,
    pub body: String,
}

impl Template {
    /// The placeholder names a render needs values for, across every text (subjects included),
    /// sorted and without duplicates. Malformed placeholders are not listed (registration
    /// rejects them).
    pub fn required_values(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        for text in &self.texts {
            names.extend(text_placeholders(text));
        }
        names.into_iter().map(str::to_owned).collect()
    }

    /// The locales this template has, in its order.
    pub fn locales(&self) -> Vec<&'static str> {
        self.texts.iter().map(|text| text.locale).collect()
    }

    /// Electronic templates always carry the opt-out line when rendered.
    pub fn is_electronic(&self) -> bool {
        is_electronic(self.channel)
    }
}

/// Email, SMS, in-app, push, messaging apps and web chat: the channels whose every message
/// carries an opt-out (Reg F 12 CFR 1006.6(e)). Calls, letters, visits and the customer's own
/// self-service pages do not.
pub fn is_electronic(channel: Channel) -> bool {
    opt_out_style(channel).is_some()
}

/// Whether `channel`'s opt-out is a personal link (email, in-app, push, web chat), which needs
/// to know whose it is; SMS and messaging apps use a reply keyword instead.
pub fn opt_out_is_link(channel: Channel) -> bool {
    matches!(
        opt_out_style(channel),
        Some(OptOutStyle::EmailLink | OptOutStyle::Link)
    )
}

/// The locale of the text [`render`] would use for `locale`, so values formatted for it
/// (amounts) match the words around them.
pub fn text_locale(template: &Template, locale: &str) -> Option<&'static str> {
    select_text(template, locale)
        .ok()
        .map(|(text, _)| text.locale)
}

/// How the customer stops electronic messages; supplied by the caller per customer and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    /// Personal opt-out link, for email, in-app, push and web chat.
    pub url: String,
    /// Reply keyword, for SMS and messaging apps, e.g. `STOP`.
    pub sms_keyword: String,
}

/// A rendered message (`rapport.plans.v1.RenderMessageResponse` without the template's own
/// fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Email only.
    pub subject: Option<String>,
    /// Ends with the opt-out line on electronic channels.
    pub body: String,
    /// The locale of the text actually used.
    pub locale: String,
    pub opt_out_included: bool,
    /// Locale fallback and the opt-out, explained.
    pub reasons: Vec<Explanation>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A placeholder the template needs has no value, or only a blank one. Holds the name
    /// without braces; the edge reports it as `INVALID_ARGUMENT` on `values`.
    #[error("missing value for {{{0}}}")]
    MissingValue(String),
    /// The caller's opt-out is blank where the channel needs it (`url` or `sms_keyword`):
    /// an electronic message is never sent without its opt-out.
    #[error("the opt-out {0} is empty; an electronic message always carries an opt-out")]
    MissingOptOut(&'static str),
    #[error("the template has no text")]
    NoText,
    /// Only for templates that were never registered.
    #[error("the {locale} text has a malformed placeholder: {detail}")]
    MalformedTemplate { locale: String, detail: String },
}

/// Why a template was refused at registration: every tone violation and structural problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ToneViolations {
    pub template_id: &'static str,
    pub violations: Vec<Explanation>,
}

impl fmt::Display for ToneViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "template {:?} was not registered: {}",
            self.template_id,
            self.violations
                .iter()
                .map(|v| v.code.as_ref())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}
