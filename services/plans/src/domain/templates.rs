//! Message templates for outreach: the texts we ship, the tone check a template passes before it
//! can be used, and rendering with the opt-out line.
//!
//! Sources:
//! - DESIGN.md Principles 1 (dignity first): the first contact offers help, never threats.
//! - DESIGN.md Rules with numbers: Contact: "templates pass a tone check: no threats or
//!   legal-action language in early contact, plain words, the first message offers help (advice,
//!   a plan) and a way to reach a person"; "every electronic message carries a simple opt-out".
//! - FCA CONC 7.9 (contact with customers) and 7.11 (no misrepresenting the legal position);
//!   Reg F 12 CFR 1006.14 (harassment or abuse), 1006.18 (false or misleading representations),
//!   1006.6(e) (a clear and conspicuous opt-out in every electronic communication).
//!
//! Decisions:
//! - Placeholders are `{name}`: `name` is lowercase ASCII letters, digits and `_`, starting with
//!   a letter (`{first_name}`, `{agent_phone}`). Template text has no other braces and no escape:
//!   a message to a customer never needs a literal brace, and a stray one is far more likely a
//!   typo, so registration rejects it (`TEMPLATE_BAD_PLACEHOLDER`).
//! - Values are plain text, inserted verbatim and never scanned again: a value that contains
//!   `{x}` stays as written. A required value that is missing or blank is an error (a letter
//!   that says "Dear ," is worse than no letter).
//! - Every locale of a template uses the same placeholders, so what a render needs does not
//!   depend on the locale chosen; every template has English, the last fallback.
//! - The opt-out line is not part of the template: [`render`] appends it on electronic channels
//!   in the language of the text used, from the [`OptOut`] the caller supplies.
//! - The phrase lists of every language are applied to every text (a Romanian message that
//!   slips into English is still checked), so no entry may be an innocent word in another
//!   language ("instant" is English, so Romanian "instanță" is listed by its forms).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rapport_proto::common::v1::Channel;
use rapport_proto::plans::v1::{ContactPurpose, TemplateStage};

use crate::domain::affordability::{Explanation, ReasonEffect};

const RULE_NO_THREATS: &str = "DESIGN.md Rules with numbers: Contact (no threats or legal-action \
     language in early contact); FCA CONC 7.9, 7.11; Reg F 12 CFR 1006.14 (harassment or abuse), \
     1006.18 (false or misleading representations)";
const RULE_HELP_FIRST: &str = "DESIGN.md Principles 1 (the first contact offers help, never \
     threats); Rules with numbers: Contact (the first message offers help: advice, a plan)";
const RULE_HUMAN_CONTACT: &str = "DESIGN.md Rules with numbers: Contact (a way to reach a \
     person); outreach_service.proto RenderMessage";
const RULE_PLAIN_WORDS: &str = "DESIGN.md Rules with numbers: Contact (plain words); FCA CONC 7.9; \
     Reg F 12 CFR 1006.14 (conduct that harasses, oppresses or abuses)";
const RULE_OPT_OUT: &str = "Reg F 12 CFR 1006.6(e): a clear and conspicuous opt-out in every \
     electronic communication; DESIGN.md Rules with numbers: Contact";
const RULE_LOCALE: &str =
    "outreach_service.proto RenderMessageRequest.locale: the template's closest locale";
const RULE_TEMPLATE: &str = "outreach_service.proto MessageTemplate, TemplateText";

/// The first words offer help: a help phrase must start within this many words of the body
/// (about two short sentences), unless the subject already offers it.
pub const HELP_WITHIN_WORDS: usize = 30;
/// Plain words: a sentence longer than this is hard to read on a phone or in a worried moment.
pub const MAX_SENTENCE_WORDS: usize = 30;
/// Languages (BCP 47 primary subtags) we have opt-out wording for; an electronic template may
/// only have texts in these.
pub const OPT_OUT_LANGUAGES: [&str; 3] = ["en", "ro", "es"];
/// The locale every template has and every render can fall back to.
pub const FALLBACK_LOCALE: &str = "en";

// ---------------------------------------------------------------- types

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
                .map(|v| v.code)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

// ---------------------------------------------------------------- registration

/// Admits a template added at run time: it must be well formed ([`structure_check`]) and pass
/// the tone check ([`tone_check`]). Every problem is returned, not just the first.
pub fn register(template: Template) -> Result<Template, ToneViolations> {
    let mut violations = structure_check(&template);
    violations.extend(tone_check(&template));
    if violations.is_empty() {
        Ok(template)
    } else {
        Err(ToneViolations {
            template_id: template.id,
            violations,
        })
    }
}

/// `MessageTemplate.tone_check`: the outcome of registering the template — every violation
/// ([`register`]'s, structural ones included), or one `TONE_CHECK_PASSED` naming the rules that
/// were applied.
pub fn tone_check_reasons(template: &Template) -> Vec<Explanation> {
    if let Err(refused) = register(template.clone()) {
        return refused.violations;
    }
    let rules = ToneRules::for_template(template);
    vec![
        Explanation::new(
            "TONE_CHECK_PASSED",
            ReasonEffect::Supports,
            RULE_NO_THREATS,
            "The template passed the tone check in every locale.",
        )
        .param("rules", rules.names().join(","))
        .param("locales", template.locales().join(",")),
    ]
}

/// Problems that would make a template unusable or ambiguous, as `TEMPLATE_*` reasons.
pub fn structure_check(template: &Template) -> Vec<Explanation> {
    let mut problems = Vec::new();
    let problem = |code, message: String| {
        Explanation::new(code, ReasonEffect::Opposes, RULE_TEMPLATE, message)
    };

    if !is_template_id(template.id) {
        problems.push(
            problem(
                "TEMPLATE_BAD_ID",
                "A template id is lowercase letters, digits and single hyphens, like \
                 first-contact-sms."
                    .into(),
            )
            .param("template_id", template.id),
        );
    }
    if template.name.trim().is_empty() {
        problems.push(problem(
            "TEMPLATE_NO_NAME",
            "The template needs a name.".into(),
        ));
    }
    if template.version == 0 {
        problems.push(problem(
            "TEMPLATE_BAD_VERSION",
            "Template versions start at 1.".into(),
        ));
    }
    if template.channel == Channel::Unspecified {
        problems.push(problem(
            "TEMPLATE_NO_CHANNEL",
            "The template needs a channel.".into(),
        ));
    }
    if template.stage == TemplateStage::Unspecified {
        problems.push(problem(
            "TEMPLATE_NO_STAGE",
            "The template needs a stage; the tone rules depend on it.".into(),
        ));
    }
    if template.purpose == ContactPurpose::Unspecified {
        problems.push(problem(
            "TEMPLATE_NO_PURPOSE",
            "The template needs a purpose; protected states stop payment demands.".into(),
        ));
    }
    if template.texts.is_empty() {
        problems.push(problem(
            "TEMPLATE_NO_TEXT",
            "The template has no text in any locale.".into(),
        ));
        return problems;
    }
    if english_text(template).is_none() {
        problems.push(problem(
            "TEMPLATE_NO_ENGLISH",
            "Every template has an English text, the fallback for any locale.".into(),
        ));
    }

    let mut seen: Vec<String> = Vec::new();
    let mut first_placeholders: Option<(&str, BTreeSet<&str>)> = None;
    for text in &template.texts {
        let locale = text.locale;
        if !is_locale(locale) {
            problems.push(
                problem(
                    "TEMPLATE_BAD_LOCALE",
                    format!("{locale:?} is not a BCP 47 locale such as en, ro or en-GB."),
                )
                .param("locale", locale),
            );
        }
        let lower = locale.to_ascii_lowercase();
        if seen.contains(&lower) {
            problems.push(
                problem(
                    "TEMPLATE_DUPLICATE_LOCALE",
                    format!("There are two texts for {locale}."),
                )
                .param("locale", locale),
            );
        }
        seen.push(lower);

        match (&text.subject, template.channel == Channel::Email) {
            (Some(subject), true) if subject.trim().is_empty() => problems.push(
                problem(
                    "TEMPLATE_NO_SUBJECT",
                    format!("The {locale} email has an empty subject."),
                )
                .param("locale", locale),
            ),
            (None, true) => problems.push(
                problem(
                    "TEMPLATE_NO_SUBJECT",
                    format!("The {locale} email has no subject."),
                )
                .param("locale", locale),
            ),
            (Some(_), false) => problems.push(
                problem(
                    "TEMPLATE_SUBJECT_NOT_EMAIL",
                    format!("The {locale} text has a subject, but only emails have one."),
                )
                .param("locale", locale),
            ),
            _ => {}
        }
        if text.body.trim().is_empty() {
            problems.push(
                problem(
                    "TEMPLATE_EMPTY_BODY",
                    format!("The {locale} text has no body."),
                )
                .param("locale", locale),
            );
        }

        for (field, value) in text_fields(text) {
            if let Err(bad) = pieces(value) {
                problems.push(
                    problem(
                        "TEMPLATE_BAD_PLACEHOLDER",
                        format!(
                            "The {locale} {field} has {}. Placeholders look like {{first_name}}; \
                             other braces are not allowed.",
                            bad.detail
                        ),
                    )
                    .param("locale", locale)
                    .param("field", field)
                    .param("near", &bad.near),
                );
            }
        }

        // A malformed text is reported above; comparing its placeholders would only repeat it.
        let well_formed = text_fields(text).all(|(_, value)| pieces(value).is_ok());
        let placeholders = text_placeholders(text);
        match &first_placeholders {
            _ if !well_formed => {}
            None => first_placeholders = Some((locale, placeholders)),
            Some((first_locale, first)) if *first != placeholders => problems.push(
                problem(
                    "TEMPLATE_PLACEHOLDERS_DIFFER",
                    format!(
                        "The {locale} text uses different placeholders from the {first_locale} \
                         text; every locale needs the same values."
                    ),
                )
                .param("locale", locale)
                .param("expected", join(first))
                .param("found", join(&placeholders)),
            ),
            Some(_) => {}
        }

        if template.is_electronic() && !OPT_OUT_LANGUAGES.contains(&language(locale).as_str()) {
            problems.push(
                problem(
                    "TEMPLATE_NO_OPT_OUT_WORDING",
                    format!(
                        "There is no opt-out wording for {locale}; every electronic message \
                         carries an opt-out in its own language."
                    ),
                )
                .param("locale", locale)
                .param("languages", OPT_OUT_LANGUAGES.join(",")),
            );
        }
    }
    problems
}

fn join(names: &BTreeSet<&str>) -> String {
    names.iter().copied().collect::<Vec<_>>().join(",")
}

fn is_template_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// A practical BCP 47 shape: a 2–3 letter language, then subtags of 1–8 letters or digits.
fn is_locale(locale: &str) -> bool {
    let mut subtags = locale.split('-');
    let language_ok = subtags
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    language_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The primary language subtag, lowercased: `ro-RO` → `ro`.
fn language(locale: &str) -> String {
    locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn english_text(template: &Template) -> Option<&Text> {
    template
        .texts
        .iter()
        .find(|t| t.locale.eq_ignore_ascii_case(FALLBACK_LOCALE))
        .or_else(|| {
            template
                .texts
                .iter()
                .find(|t| language(t.locale) == FALLBACK_LOCALE)
        })
}

fn text_fields(text: &Text) -> impl Iterator<Item = (&'static str, &str)> {
    text.subject
        .as_deref()
        .map(|s| ("subject", s))
        .into_iter()
        .chain(std::iter::once(("body", text.body.as_str())))
}

fn text_placeholders(text: &Text) -> BTreeSet<&str> {
    text_fields(text)
        .filter_map(|(_, value)| pieces(value).ok())
        .flatten()
        .filter_map(|piece| match piece {
            Piece::Placeholder(name) => Some(name),
            Piece::Literal(_) => None,
        })
        .collect()
}

// ---------------------------------------------------------------- placeholders

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct BadPlaceholder {
    detail: &'static str,
    /// The text from the offending brace on, shortened.
    near: String,
}

impl BadPlaceholder {
    fn at(text: &str, at: usize, detail: &'static str) -> Self {
        Self {
            detail,
            near: text[at..].chars().take(24).collect(),
        }
    }
}

fn is_placeholder_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.len() <= 64
}

/// Splits template text into literals and `{name}` placeholders; any other brace is an error.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, BadPlaceholder> {
    let mut out = Vec::new();
    let mut offset = 0;
    while let Some(found) = text[offset..].find(['{', '}']) {
        let open = offset + found;
        if text.as_bytes()[open] == b'}' {
            return Err(BadPlaceholder::at(text, open, "a '}' without its '{'"));
        }
        let after = &text[open + 1..];
        let close = after
            .find(['{', '}'])
            .filter(|&c| after.as_bytes()[c] == b'}')
            .ok_or_else(|| BadPlaceholder::at(text, open, "a '{' without its '}'"))?;
        let name = &after[..close];
        if !is_placeholder_name(name) {
            return Err(BadPlaceholder::at(
                text,
                open,
                "a placeholder name that is not lowercase letters, digits and '_'",
            ));
        }
        if open > offset {
            out.push(Piece::Literal(&text[offset..open]));
        }
        out.push(Piece::Placeholder(name));
        offset = open + 1 + close + 1;
    }
    if offset < text.len() {
        out.push(Piece::Literal(&text[offset..]));
    }
    Ok(out)
}

/// The byte length of a well-formed `{name}` at the start of `text`.
fn placeholder_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('{')?;
    let close = rest.find('}')?;
    is_placeholder_name(&rest[..close]).then_some(close + 2)
}

// ---------------------------------------------------------------- rendering

/// Renders `template` in the closest locale to `locale`, filling placeholders from `values`
/// (extra values are ignored) and appending the opt-out line on electronic channels.
///
/// Locale: an exact match (ignoring case, `_` read as `-`), else a text in the same language
/// (`ro-RO` → `ro`), else English; a fallback is reported as a `Neutral` reason.
pub fn render(
    template: &Template,
    locale: &str,
    values: &BTreeMap<String, String>,
    opt_out: &OptOut,
) -> Result<Rendered, RenderError> {
    let (text, mut reasons) = select_text(template, locale)?;
    for name in template.required_values() {
        if values.get(&name).is_none_or(|v| v.trim().is_empty()) {
            return Err(RenderError::MissingValue(name));
        }
    }
    let subject = text
        .subject
        .as_deref()
        .map(|subject| fill(subject, text.locale, values))
        .transpose()?;
    // The template's trailing blank lines go; the values stay verbatim.
    let mut body = fill(text.body.trim_end(), text.locale, values)?;

    let opt_out_included = match opt_out_style(template.channel) {
        Some(style) => {
            let (line, wording_language) = opt_out_line(style, text.locale, opt_out)?;
            body.push_str(style.separator());
            body.push_str(&line);
            reasons.push(
                Explanation::new(
                    "OPT_OUT_INCLUDED",
                    ReasonEffect::Supports,
                    RULE_OPT_OUT,
                    "The message ends with a simple way to stop these messages.",
                )
                .param("channel", template.channel.as_str_name())
                .param("locale", wording_language),
            );
            if language(text.locale) != wording_language {
                reasons.push(
                    Explanation::new(
                        "OPT_OUT_WORDING_FALLBACK",
                        ReasonEffect::Neutral,
                        RULE_OPT_OUT,
                        format!(
                            "There is no opt-out wording for {}, so it is in English.",
                            text.locale
                        ),
                    )
                    .param("locale", text.locale),
                );
            }
            true
        }
        None => {
            reasons.push(
                Explanation::new(
                    "OPT_OUT_NOT_APPLICABLE",
                    ReasonEffect::Neutral,
                    RULE_OPT_OUT,
                    "Letters and calls carry no opt-out line; the rule covers electronic \
                     messages.",
                )
                .param("channel", template.channel.as_str_name()),
            );
            false
        }
    };

    Ok(Rendered {
        subject,
        body,
        locale: text.locale.to_owned(),
        opt_out_included,
        reasons,
    })
}

fn fill(
    text: &str,
    locale: &str,
    values: &BTreeMap<String, String>,
) -> Result<String, RenderError> {
    let pieces = pieces(text).map_err(|bad| RenderError::MalformedTemplate {
        locale: locale.to_owned(),
        detail: format!("{} near {:?}", bad.detail, bad.near),
    })?;
    let mut out = String::with_capacity(text.len() + 32);
    for piece in pieces {
        match piece {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Placeholder(name) => match values.get(name) {
                Some(value) if !value.trim().is_empty() => out.push_str(value),
                _ => return Err(RenderError::MissingValue(name.to_owned())),
            },
        }
    }
    Ok(out)
}

fn select_text<'t>(
    template: &'t Template,
    requested: &str,
) -> Result<(&'t Text, Vec<Explanation>), RenderError> {
    let wanted = requested.trim().replace('_', "-");
    if let Some(text) = template
        .texts
        .iter()
        .find(|t| !wanted.is_empty() && t.locale.eq_ignore_ascii_case(&wanted))
    {
        return Ok((text, Vec::new()));
    }

    let wanted_language = language(&wanted);
    let same_language = template
        .texts
        .iter()
        .filter(|t| !wanted_language.is_empty() && language(t.locale) == wanted_language)
        .min_by_key(|t| t.locale.len());
    if let Some(text) = same_language {
        let reason = Explanation::new(
            "LOCALE_SAME_LANGUAGE",
            ReasonEffect::Neutral,
            RULE_LOCALE,
            format!(
                "There is no {wanted} text, so the {} text is used.",
                text.locale
            ),
        )
        .param("requested", requested)
        .param("used", text.locale);
        return Ok((text, vec![reason]));
    }

    let message = if wanted.is_empty() {
        "No locale was asked for".to_owned()
    } else {
        format!("There is no text in the language of {wanted}")
    };
    if let Some(text) = english_text(template) {
        let reason = Explanation::new(
            "LOCALE_FALLBACK_ENGLISH",
            ReasonEffect::Neutral,
            RULE_LOCALE,
            format!("{message}, so the English text is used."),
        )
        .param("requested", requested)
        .param("used", text.locale);
        return Ok((text, vec![reason]));
    }
    let text = template.texts.first().ok_or(RenderError::NoText)?;
    let reason = Explanation::new(
        "LOCALE_FALLBACK_FIRST",
        ReasonEffect::Neutral,
        RULE_LOCALE,
        format!(
            "{message} and no English text, so the {} text is used.",
            text.locale
        ),
    )
    .param("requested", requested)
    .param("used", text.locale);
    Ok((text, vec![reason]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptOutStyle {
    /// SMS and messaging apps: reply with a keyword.
    ReplyKeyword,
    /// Email: a personal link.
    EmailLink,
    /// In-app, push, web chat: a personal link.
    Link,
}

impl OptOutStyle {
    fn separator(self) -> &'static str {
        match self {
            Self::ReplyKeyword => "\n",
            Self::EmailLink | Self::Link => "\n\n",
        }
    }
}

fn opt_out_style(channel: Channel) -> Option<OptOutStyle> {
    match channel {
        Channel::Sms | Channel::Messaging => Some(OptOutStyle::ReplyKeyword),
        Channel::Email => Some(OptOutStyle::EmailLink),
        Channel::InApp | Channel::Push | Channel::WebChat => Some(OptOutStyle::Link),
        Channel::Unspecified
        | Channel::Phone
        | Channel::Letter
        | Channel::Web
        | Channel::Branch
        | Channel::Visit
        | Channel::Video => None,
    }
}

/// The opt-out line in the text's language (English when there is no wording for it), and the
/// language used.
fn opt_out_line(
    style: OptOutStyle,
    locale: &str,
    opt_out: &OptOut,
) -> Result<(String, &'static str), RenderError> {
    let keyword = opt_out.sms_keyword.trim();
    let url = opt_out.url.trim();
    match style {
        OptOutStyle::ReplyKeyword if keyword.is_empty() => {
            return Err(RenderError::MissingOptOut("sms_keyword"));
        }
        OptOutStyle::EmailLink | OptOutStyle::Link if url.is_empty() => {
            return Err(RenderError::MissingOptOut("url"));
        }
        _ => {}
    }
    let wording_language = match language(locale).as_str() {
        "ro" => "ro",
        "es" => "es",
        _ => "en",
    };
    let line = match (wording_language, style) {
        ("ro", OptOutStyle::ReplyKeyword) => format!("Răspundeți {keyword} pentru dezabonare."),
        ("ro", OptOutStyle::EmailLink) => {
            format!("Pentru a nu mai primi e-mailuri despre acest cont: {url}")
        }
        ("ro", OptOutStyle::Link) => format!("Pentru a nu mai primi aceste mesaje: {url}"),
        ("es", OptOutStyle::ReplyKeyword) => format!("Responda {keyword} para darse de baja."),
        ("es", OptOutStyle::EmailLink) => {
            format!("Para dejar de recibir correos sobre esta cuenta: {url}")
        }
        ("es", OptOutStyle::Link) => format!("Para dejar de recibir estos mensajes: {url}"),
        (_, OptOutStyle::ReplyKeyword) => format!("Reply {keyword} to opt out."),
        (_, OptOutStyle::EmailLink) => format!("To stop emails about this account: {url}"),
        (_, OptOutStyle::Link) => format!("To stop these messages: {url}"),
    };
    Ok((line, wording_language))
}

// ---------------------------------------------------------------- who, when, how much

const RULE_NOTHING_PAST_DUE: &str = "DESIGN.md Rules with numbers: Contact (no collections \
     contact without something past due); Reg F 12 CFR 1006.18 (no false representations)";

/// Where the locale a message is rendered for came from (`rapport.plans.v1.LocaleSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocaleSource {
    /// The request named one.
    Request,
    /// The customer's locale in profiles.
    Customer,
    /// [`FALLBACK_LOCALE`].
    Fallback,
}

/// The locale to render for: the request's, else the customer's, else [`FALLBACK_LOCALE`] (so a
/// ro-RO customer is never written to in English only because the caller left it out).
pub fn choose_locale(requested: &str, customer: Option<&str>) -> (String, LocaleSource) {
    let requested = requested.trim();
    if !requested.is_empty() {
        return (requested.to_owned(), LocaleSource::Request);
    }
    match customer.map(str::trim).filter(|l| !l.is_empty()) {
        Some(locale) => (locale.to_owned(), LocaleSource::Customer),
        None => (FALLBACK_LOCALE.to_owned(), LocaleSource::Fallback),
    }
}

/// Placeholders that address the customer by name: a value given for a known customer must be
/// theirs, and an absent one is taken from profiles.
pub const NAME_PLACEHOLDER: &str = "first_name";

fn folded_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut out = String::new();
            w.chars().for_each(|c| fold_into(c, &mut out));
            out
        })
        .collect()
}

/// Whether `given` names the customer: their whole legal or preferred name, or one word of
/// either, ignoring case and diacritics ("ana" and "Ștefan" → "stefan" match).
pub fn name_matches(given: &str, legal_name: &str, preferred_name: &str) -> bool {
    let given = folded_words(given);
    if given.is_empty() {
        return false;
    }
    [legal_name, preferred_name].iter().any(|name| {
        let words = folded_words(name);
        !words.is_empty() && (words == given || (given.len() == 1 && words.contains(&given[0])))
    })
}

/// How the message greets the customer: the first word of the preferred name, else of the legal
/// name; `None` when profiles has neither.
pub fn first_name(legal_name: &str, preferred_name: &str) -> Option<String> {
    [preferred_name, legal_name]
        .iter()
        .find_map(|name| name.split_whitespace().next())
        .map(str::to_owned)
}

/// First contact, early, mid and late messages speak about the debt; service messages (plan
/// confirmations, receipts, check-ins) do not.
pub fn is_collections_stage(stage: TemplateStage) -> bool {
    match stage {
        TemplateStage::FirstContact
        | TemplateStage::Early
        | TemplateStage::Mid
        | TemplateStage::Late => true,
        TemplateStage::Service | TemplateStage::Unspecified => false,
    }
}

/// Why a collections template may not be sent about an account with nothing past due ("a recent
/// payment has not reached us" would be false); `None` when it may.
pub fn stage_refusal(stage: TemplateStage, something_past_due: bool) -> Option<Explanation> {
    (is_collections_stage(stage) && !something_past_due).then(|| {
        Explanation::new(
            "NOTHING_PAST_DUE",
            ReasonEffect::Opposes,
            RULE_NOTHING_PAST_DUE,
            "The account has nothing past due, so a collections message would not be true.",
        )
        .param("stage", stage.as_str_name())
    })
}

/// `money` in `locale`'s number style, with as many decimals as the currency's minor unit and
/// its ISO code (unambiguous where a symbol is not: "$" is several currencies). English groups
/// with "," and uses "." for decimals ("EUR 1,234.56"); Romanian, Spanish and most of continental
/// Europe the other way round ("1.234,56 RON").
pub fn format_money(money: rapport_money::Money, locale: &str) -> String {
    let decimal = money.to_decimal_string();
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let english = language(locale) == "en" || language(locale).is_empty();
    let (group, point) = if english { (',', '.') } else { ('.', ',') };
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let amount = if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{point}{fraction}")
    };
    let code = money.currency().code();
    if english {
        format!("{code} {amount}")
    } else {
        format!("{amount} {code}")
    }
}

// ---------------------------------------------------------------- tone check

/// Threats, legal action and "final demand" language; not allowed at stages FirstContact and
/// Early, nor in any Support template. `*` ends a prefix (`bailiff*` finds "bailiffs"), `#`
/// stands for a number or a placeholder. Matching ignores case and diacritics.
const THREAT_PHRASES: &[&str] = &[
    // English
    "final demand",
    "final notice",
    "final warning",
    "final reminder",
    "legal action",
    "legal proceedings",
    "legal steps",
    "court",
    "courts",
    "ccj",
    "judgment",
    "judgement",
    "lawsuit",
    "sue you",
    "sued",
    "suing",
    "bailiff*",
    "enforcement agent*",
    "enforcement officer*",
    "sheriff*",
    "we will take action",
    "we will take legal",
    "we will take steps",
    "we will take further",
    "we'll take action",
    "we'll take legal",
    "failure to pay will",
    "failure to pay may",
    "last chance",
    "debt collector*",
    "collection agency",
    "collections agency",
    "repossess*",
    "seiz*",
    "arrest*",
    "criminal*",
    "prosecut*",
    "police",
    "prison",
    "jail",
    "warrant",
    "garnish*",
    "blacklist*",
    "black list",
    "credit score will be",
    "ruin your credit",
    "immediately or",
    "within # hours or",
    "within # days or",
    "pay now or",
    "or else",
    // Română
    "somați*",
    "ultimă somație",
    "ultima notificare",
    "notificare finală",
    "avertisment final",
    "ultimul avertisment",
    "executor* judecătoresc*",
    "execut* silit*",
    "instanță",
    "instanței",
    "instanțe",
    "instanțele",
    "instanțelor",
    "acțiune în instanță",
    "în judecată",
    "judecători*",
    "tribunal*",
    "poprir*",
    "penal",
    "penală",
    "penale",
    "dosar penal",
    "poliția",
    "poliție",
    "poliției",
    "arest*",
    "închisoare",
    "vom lua măsuri",
    "măsuri legale",
    "acțiune legală",
    "acțiuni legale",
    "demersuri legale",
    "consecințe legale",
    "sechestr*",
    "confisc*",
    "recuperator*",
    "firmă de recuperare",
    "agenție de recuperare",
    "lista neagră",
    "biroul de credit",
    "ultima șansă",
    "ultima ocazie",
    "imediat sau",
    "în # ore sau",
    "în # de ore sau",
    "în # zile sau",
    "în # de zile sau",
    // Español
    "acción legal",
    "acciones legales",
    "acción judicial",
    "acciones judiciales",
    "medidas legales",
    "demanda judicial",
    "juzgado*",
    "juicio",
    "embarg*",
    "último aviso",
    "aviso final",
    "requerimiento final",
    "última oportunidad",
    "cobrador*",
    "agencia de cobro*",
    "lista negra",
    "morosos",
    "policía",
    "cárcel",
    "detención",
    "inmediatamente o",
    "en # horas o",
    "en # días o",
    "consecuencias legales",
];

/// Offers of help (advice, a plan, support).
const HELP_PHRASES: &[&str] = &[
    "help*",
    "support*",
    "advice",
    "advis*",
    "ajut*",
    "sprijin*",
    "consilier*",
    "ayud*",
    "apoy*",
    "asesor*",
];

/// A way to reach a person, besides the `{agent_phone}` placeholder.
const HUMAN_CONTACT_PHRASES: &[&str] = &[
    "call us",
    "phone us",
    "ring us",
    "speak to",
    "speak with",
    "talk to",
    "talk with",
    "call you back",
    "sunați-ne",
    "sunați",
    "vorbiți cu",
    "vă sunăm",
    "vă putem suna",
    "llámenos",
    "llame",
    "hable con",
    "le llamaremos",
    "le llamamos",
];
const HUMAN_CONTACT_PLACEHOLDER: &str = "agent_phone";

/// Words that are plain to a lender and opaque or cold to a customer.
const JARGON_PHRASES: &[&str] = &[
    "arrears",
    "delinquen*",
    "forbearance",
    "debtor*",
    "pursuant",
    "hereby",
    "herein",
    "hereinafter",
    "aforementioned",
    "notwithstanding",
    "remit",
    "remittance",
    "debitor*",
    "restanțier*",
    "prin prezenta",
    "subsemnat*",
    "mai sus menționat*",
    "deudor*",
    "por medio de la presente",
    "en virtud de",
];

/// Upper-case words of 4+ letters that are names, not shouting.
const ACRONYMS: &[&str] = &[
    "stop", "iban", "swift", "gdpr", "sepa", "anaf", "anpc", "cfpb", "hmrc", "mabs", "finra",
    "robor", "euribor", "sonia", "paye", "ircc", "fdcpa",
];

/// Which tone rules apply to a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ToneRules {
    no_threats: bool,
    help_offered: bool,
    plain_words: bool,
}

impl ToneRules {
    fn for_template(template: &Template) -> Self {
        let early = matches!(
            template.stage,
            TemplateStage::FirstContact | TemplateStage::Early
        );
        Self {
            no_threats: early || template.purpose == ContactPurpose::Support,
            help_offered: early,
            // Statutory notices carry wording the law prescribes.
            plain_words: template.purpose != ContactPurpose::StatutoryNotice,
        }
    }

    fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.no_threats {
            names.push("no_threats");
        }
        if self.help_offered {
            names.push("help_offered_first");
        }
        names.push("human_contact");
        names.push("no_shouting");
        names.push("one_exclamation_mark");
        if self.plain_words {
            names.push("plain_words");
        }
        names
    }
}

/// Tone violations of `template` in every locale; empty when it passes.
///
/// - stages FirstContact and Early, and any Support template: no threats or legal-action
///   language (`TONE_THREAT`);
/// - stages FirstContact and Early: help is offered (`TONE_NO_HELP_OFFERED`), in the first
///   [`HELP_WITHIN_WORDS`] words of the body or in the subject (`TONE_HELP_NOT_FIRST`);
/// - every template: a way to reach a person, `{agent_phone}` or "call us"
///   (`TONE_NO_HUMAN_CONTACT`); no word of 4+ letters in capitals other than known acronyms
///   (`TONE_SHOUTING`); at most one exclamation mark (`TONE_EXCLAMATION`);
/// - every template except statutory notices: plain words (`TONE_JARGON`) and sentences of at
///   most [`MAX_SENTENCE_WORDS`] words (`TONE_LONG_SENTENCE`).
pub fn tone_check(template: &Template) -> Vec<Explanation> {
    let rules = ToneRules::for_template(template);
    let mut violations = Vec::new();
    for text in &template.texts {
        let locale = text.locale;
        let fields: Vec<(&'static str, &str, Vec<Token>)> = text_fields(text)
            .map(|(field, value)| (field, value, tokens(value)))
            .collect();

        if rules.no_threats {
            for (field, value, tokens) in &fields {
                for found in distinct(find_phrases(THREAT_PHRASES, tokens)) {
                    let matched = found.source(value, tokens);
                    violations.push(
                        Explanation::new(
                            "TONE_THREAT",
                            ReasonEffect::Opposes,
                            RULE_NO_THREATS,
                            format!(
                                "The {locale} {field} says \"{matched}\", which reads as a threat \
                                 or legal action. Early and supportive messages offer help, \
                                 never threats."
                            ),
                        )
                        .param("locale", locale)
                        .param("field", *field)
                        .param("phrase", found.phrase)
                        .param("matched", matched),
                    );
                }
            }
        }

        if rules.help_offered {
            let in_subject = fields.iter().any(|(field, _, tokens)| {
                *field == "subject" && !find_phrases(HELP_PHRASES, tokens).is_empty()
            });
            let first_in_body = fields
                .iter()
                .filter(|(field, _, _)| *field == "body")
                .flat_map(|(_, _, tokens)| find_phrases(HELP_PHRASES, tokens))
                .map(|found| found.first)
                .min();
            match (in_subject, first_in_body) {
                (false, None) => violations.push(
                    Explanation::new(
                        "TONE_NO_HELP_OFFERED",
                        ReasonEffect::Opposes,
                        RULE_HELP_FIRST,
                        format!(
                            "The {locale} text does not offer help. A first or early message \
                             offers help: advice, a plan, support."
                        ),
                    )
                    .param("locale", locale),
                ),
                (false, Some(word)) if word >= HELP_WITHIN_WORDS => violations.push(
                    Explanation::new(
                        "TONE_HELP_NOT_FIRST",
                        ReasonEffect::Opposes,
                        RULE_HELP_FIRST,
                        format!(
                            "The {locale} text offers help only after {word} words; the first \
                             words offer help."
                        ),
                    )
                    .param("locale", locale)
                    .param("first_help_word", word + 1)
                    .param("limit", HELP_WITHIN_WORDS),
                ),
                _ => {}
            }
        }

        let reaches_a_person = fields.iter().any(|(_, _, tokens)| {
            tokens
                .iter()
                .any(|t| t.kind == TokenKind::Placeholder && t.folded == HUMAN_CONTACT_PLACEHOLDER)
                || !find_phrases(HUMAN_CONTACT_PHRASES, tokens).is_empty()
        });
        if !reaches_a_person {
            violations.push(
                Explanation::new(
                    "TONE_NO_HUMAN_CONTACT",
                    ReasonEffect::Opposes,
                    RULE_HUMAN_CONTACT,
                    format!(
                        "The {locale} text gives no way to reach a person: add {{agent_phone}} \
                         or \"call us\"."
                    ),
                )
                .param("locale", locale),
            );
        }

        for (field, value, tokens) in &fields {
            let mut shouted = BTreeSet::new();
            for token in tokens.iter().filter(|t| t.kind == TokenKind::Word) {
                let word = &value[token.start..token.end];
                let letters = word.chars().filter(|c| c.is_alphabetic()).count();
                if letters >= 4
                    && word
                        .chars()
                        .filter(|c| c.is_alphabetic())
                        .all(char::is_uppercase)
                    && !ACRONYMS.contains(&token.folded.as_str())
                    && shouted.insert(word)
                {
                    violations.push(
                        Explanation::new(
                            "TONE_SHOUTING",
                            ReasonEffect::Opposes,
                            RULE_PLAIN_WORDS,
                            format!(
                                "The {locale} {field} writes \"{word}\" in capitals, which reads \
                                 as shouting."
                            ),
                        )
                        .param("locale", locale)
                        .param("field", *field)
                        .param("word", word),
                    );
                }
            }
        }

        let exclamations: usize = fields
            .iter()
            .map(|(_, value, _)| value.matches('!').count())
            .sum();
        if exclamations > 1 {
            violations.push(
                Explanation::new(
                    "TONE_EXCLAMATION",
                    ReasonEffect::Opposes,
                    RULE_PLAIN_WORDS,
                    format!(
                        "The {locale} text has {exclamations} exclamation marks; at most one \
                         keeps it calm."
                    ),
                )
                .param("locale", locale)
                .param("count", exclamations)
                .param("limit", 1),
            );
        }

        if rules.plain_words {
            for (field, value, tokens) in &fields {
                for found in distinct(find_phrases(JARGON_PHRASES, tokens)) {
                    let matched = found.source(value, tokens);
                    violations.push(
                        Explanation::new(
                            "TONE_JARGON",
                            ReasonEffect::Opposes,
                            RULE_PLAIN_WORDS,
                            format!(
                                "The {locale} {field} uses \"{matched}\"; plain everyday words \
                                 are clearer."
                            ),
                        )
                        .param("locale", locale)
                        .param("field", *field)
                        .param("phrase", found.phrase)
                        .param("matched", matched),
                    );
                }
                for sentence in sentences(value, tokens) {
                    let words = sentence.len();
                    if words > MAX_SENTENCE_WORDS {
                        let opening_end = tokens[sentence.start + 5].end;
                        let opening = &value[tokens[sentence.start].start..opening_end];
                        violations.push(
                            Explanation::new(
                                "TONE_LONG_SENTENCE",
                                ReasonEffect::Opposes,
                                RULE_PLAIN_WORDS,
                                format!(
                                    "The {locale} {field} has a sentence of {words} words \
                                     (\"{opening}…\"); short sentences are easier to read."
                                ),
                            )
                            .param("locale", locale)
                            .param("field", *field)
                            .param("words", words)
                            .param("limit", MAX_SENTENCE_WORDS)
                            .param("sentence_start", opening),
                        );
                    }
                }
            }
        }
    }
    violations
}

// ---------------------------------------------------------------- matching

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Word,
    Number,
    /// A well-formed `{name}`; `folded` holds the name.
    Placeholder,
}

/// One word of a text: lowercased and without diacritics in `folded`, with its byte span in the
/// original text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    folded: String,
    kind: TokenKind,
    start: usize,
    end: usize,
}

fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02bc}')
}

/// Lowercases `c` and folds diacritics: ș/ş → s, ț/ţ → t, ă/â → a, î → i, and the accents of
/// Spanish and other Latin scripts; combining marks (decomposed text) are dropped.
fn fold_into(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        let folded = match lower {
            'ș' | 'ş' => 's',
            'ț' | 'ţ' => 't',
            'ă' | 'â' | 'á' | 'à' | 'ä' | 'ã' | 'å' => 'a',
            'î' | 'í' | 'ì' | 'ï' | 'ı' => 'i',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            mark if is_combining_mark(mark) => continue,
            other => other,
        };
        out.push(folded);
    }
}

fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut current: Option<Token> = None;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c == '{'
            && let Some(len) = placeholder_len(&text[at..])
        {
            flush(&mut current, &mut out);
            out.push(Token {
                folded: text[at + 1..at + len - 1].to_owned(),
                kind: TokenKind::Placeholder,
                start: at,
                end: at + len,
            });
            while i < chars.len() && chars[i].0 < at + len {
                i += 1;
            }
            continue;
        }
        let continues_word = current.is_some()
            && (is_combining_mark(c)
                || (is_apostrophe(c) && chars.get(i + 1).is_some_and(|&(_, n)| n.is_alphabetic())));
        if c.is_alphanumeric() || continues_word {
            let token = current.get_or_insert_with(|| Token {
                folded: String::new(),
                kind: TokenKind::Word,
                start: at,
                end: at,
            });
            if is_apostrophe(c) {
                token.folded.push('\'');
            } else {
                fold_into(c, &mut token.folded);
            }
            token.end = at + c.len_utf8();
        } else {
            flush(&mut current, &mut out);
        }
        i += 1;
    }
    flush(&mut current, &mut out);
    out
}

fn flush(current: &mut Option<Token>, out: &mut Vec<Token>) {
    if let Some(mut token) = current.take()
        && !token.folded.is_empty()
    {
        if token.folded.chars().all(|c| c.is_ascii_digit()) {
            token.kind = TokenKind::Number;
        }
        out.push(token);
    }
}

/// Sentences as ranges of token indices: split at `. ! ? ; …` and line breaks.
fn sentences(text: &str, tokens: &[Token]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..tokens.len() {
        let gap = &text[tokens[i - 1].end..tokens[i].start];
        if gap.contains(['.', '!', '?', ';', '…', '\n']) {
            out.push(start..i);
            start = i;
        }
    }
    if start < tokens.len() {
        out.push(start..tokens.len());
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternToken {
    Exact(String),
    Prefix(String),
    /// `#`: a number or a placeholder.
    Number,
}

fn compile(phrase: &str) -> Vec<PatternToken> {
    let mut out = Vec::new();
    for chunk in phrase.split_whitespace() {
        if chunk == "#" {
            out.push(PatternToken::Number);
            continue;
        }
        let (stem, prefix) = match chunk.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (chunk, false),
        };
        let mut words: Vec<PatternToken> = tokens(stem)
            .into_iter()
            .map(|t| PatternToken::Exact(t.folded))
            .collect();
        if prefix && let Some(PatternToken::Exact(last)) = words.pop() {
            words.push(PatternToken::Prefix(last));
        }
        out.extend(words);
    }
    out
}

fn matches_at(pattern: &[PatternToken], tokens: &[Token], at: usize) -> bool {
    tokens.len() - at >= pattern.len()
        && pattern.iter().zip(&tokens[at..]).all(|(p, t)| match p {
            PatternToken::Exact(word) => t.kind != TokenKind::Placeholder && t.folded == *word,
            PatternToken::Prefix(stem) => {
                t.kind == TokenKind::Word && t.folded.starts_with(stem.as_str())
            }
            PatternToken::Number => {
                matches!(t.kind, TokenKind::Number | TokenKind::Placeholder)
            }
        })
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PhraseMatch {
    phrase: &'static str,
    /// Token indices, inclusive.
    first: usize,
    last: usize,
}

impl PhraseMatch {
    /// The words as written in the text.
    fn source<'a>(&self, text: &'a str, tokens: &[Token]) -> &'a str {
        &text[tokens[self.first].start..tokens[self.last].end]
    }
}

/// Every occurrence of every phrase; where matches overlap, the widest is kept ("ultimă
/// somație" rather than "somați*" inside it).
fn find_phrases(phrases: &[&'static str], tokens: &[Token]) -> Vec<PhraseMatch> {
    let mut found = Vec::new();
    for &phrase in phrases {
        let pattern = compile(phrase);
        if pattern.is_empty() {
            continue;
        }
        for at in 0..tokens.len() {
            if matches_at(&pattern, tokens, at) {
                found.push(PhraseMatch {
                    phrase,
                    first: at,
                    last: at + pattern.len() - 1,
                });
            }
        }
    }
    found.sort_by_key(|m| (m.first, std::cmp::Reverse(m.last)));
    let mut kept: Vec<PhraseMatch> = Vec::new();
    for m in found {
        if !kept.iter().any(|k| k.first <= m.first && m.last <= k.last) {
            kept.push(m);
        }
    }
    kept
}

/// One match per phrase: a phrase used three times is one violation.
fn distinct(matches: Vec<PhraseMatch>) -> Vec<PhraseMatch> {
    let mut seen = BTreeSet::new();
    matches
        .into_iter()
        .filter(|m| seen.insert(m.phrase))
        .collect()
}

// ---------------------------------------------------------------- shipped templates

fn text(locale: &'static str, subject: Option<&str>, body: &str) -> Text {
    Text {
        locale,
        subject: subject.map(str::to_owned),
        body: body.to_owned(),
    }
}

/// The templates Rapport ships, each in English and Romanian; the first-contact ones also in
/// Spanish. Every one passes [`register`].
///
/// Placeholders: `{first_name}`, `{lender_name}` (who is writing), `{agent_phone}` (a person
/// answers), `{amount_due}` (Money, formatted by [`format_money`] for the text's locale, or a
/// caller's string), `{due_date}` (already formatted for the locale by the caller),
/// `{monthly_amount}`, `{first_payment_date}`, `{breathing_space_start}`.
pub fn shipped() -> Vec<Template> {
    vec![
        first_contact_sms(),
        first_contact_email(),
        first_contact_letter(),
        early_reminder_email(),
        early_reminder_sms(),
        plan_confirmation_email(),
        missed_installment_checkin_sms(),
        breathing_space_ack_letter(),
    ]
}

fn first_contact_sms() -> Template {
    Template {
        id: "first-contact-sms",
        name: "First contact (SMS): an offer of help".into(),
        channel: Channel::Sms,
        stage: TemplateStage::FirstContact,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![
            text(
                "en",
                None,
                "Hello {first_name}, {lender_name} here. If money is tight right now, we are here \
                 to help. We can agree a payment plan that fits your budget and point you to free \
                 debt advice. Call {agent_phone} to talk to a person, or reply with a good time \
                 and we will call you back.",
            ),
            text(
                "ro",
                None,
                "Bună ziua, {first_name}, vă scrie {lender_name}. Dacă vă este greu financiar în \
                 această perioadă, suntem aici să vă ajutăm. Putem stabili împreună un plan de \
                 plată pe măsura bugetului dumneavoastră și vă putem îndruma spre consiliere \
                 gratuită privind datoriile. Sunați-ne la {agent_phone} ca să vorbiți cu o \
                 persoană sau răspundeți cu o oră potrivită și vă sunăm noi.",
            ),
            text(
                "es",
                None,
                "Hola, {first_name}, le escribe {lender_name}. Si ahora mismo le cuesta llegar a \
                 fin de mes, estamos aquí para ayudarle. Podemos acordar un plan de pagos que se \
                 ajuste a su presupuesto y orientarle hacia asesoramiento gratuito sobre deudas. \
                 Llámenos al {agent_phone} para hablar con una persona o responda con una hora \
                 que le venga bien y le llamaremos.",
            ),
        ],
    }
}

fn first_contact_email() -> Template {
    Template {
        id: "first-contact-email",
        name: "First contact (email): an offer of help".into(),
        channel: Channel::Email,
        stage: TemplateStage::FirstContact,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![
            text(
                "en",
                Some("We are here to help"),
                "Hello {first_name},\n\n\
                 We are here to help if money is tight right now. We noticed that a recent \
                 payment on your account has not reached us, and we want to check that you are \
                 OK.\n\n\
                 Here is what we can do together:\n\
                 - agree a payment plan that fits your budget\n\
                 - look at lower payments for a while\n\
                 - put you in touch with free, independent debt advice\n\n\
                 To talk to a person, call us on {agent_phone}. If you prefer, reply to this \
                 email with a good time and we will call you back.\n\n\
                 If something else is making things hard, such as your health or a change in \
                 your life, please tell us. It helps us support you in the right way.\n\n\
                 Kind regards,\n\
                 {lender_name}",
            ),
            text(
                "ro",
                Some("Suntem aici să vă ajutăm"),
                "Bună ziua, {first_name},\n\n\
                 Suntem aici să vă ajutăm dacă vă este greu financiar în această perioadă. Am \
                 observat că o plată recentă pentru contul dumneavoastră nu a ajuns la noi și \
                 vrem să ne asigurăm că sunteți bine.\n\n\
                 Iată ce putem face împreună:\n\
                 - stabilim un plan de plată pe măsura bugetului dumneavoastră\n\
                 - analizăm plăți mai mici pentru o perioadă\n\
                 - vă punem în legătură cu servicii gratuite și independente de consiliere \
                 privind datoriile\n\n\
                 Pentru a vorbi cu o persoană, sunați-ne la {agent_phone}. Dacă preferați, \
                 răspundeți la acest e-mail cu o oră potrivită și vă sunăm noi.\n\n\
                 Dacă treceți prin alte greutăți, de exemplu legate de sănătate sau de o \
                 schimbare în viața dumneavoastră, vă rugăm să ne spuneți. Așa vă putem sprijini \
                 cum trebuie.\n\n\
                 Cu stimă,\n\
                 {lender_name}",
            ),
            text(
                "es",
                Some("Estamos aquí para ayudarle"),
                "Hola, {first_name}:\n\n\
                 Estamos aquí para ayudarle si ahora mismo le cuesta llegar a fin de mes. Hemos \
                 visto que no nos ha llegado un pago reciente de su cuenta y queremos saber si \
                 está bien.\n\n\
                 Esto es lo que podemos hacer juntos:\n\
                 - acordar un plan de pagos que se ajuste a su presupuesto\n\
                 - estudiar pagos más bajos durante un tiempo\n\
                 - ponerle en contacto con asesoramiento gratuito e independiente sobre deudas\n\n\
                 Para hablar con una persona, llámenos al {agent_phone}. Si lo prefiere, responda \
                 a este correo con una hora que le venga bien y le llamaremos.\n\n\
                 Si está pasando por otras dificultades, como problemas de salud o un cambio en \
                 su vida, cuéntenoslo. Así podremos apoyarle mejor.\n\n\
                 Un cordial saludo,\n\
                 {lender_name}",
            ),
        ],
    }
}

fn first_contact_letter() -> Template {
    Template {
        id: "first-contact-letter",
        name: "First contact (letter): an offer of help".into(),
        channel: Channel::Letter,
        stage: TemplateStage::FirstContact,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![
            text(
                "en",
                None,
                "Dear {first_name},\n\n\
                 We are writing to offer our help. A recent payment on your account has not \
                 reached us. This can happen to anyone, and we would like to help you find a way \
                 forward that works for you.\n\n\
                 Here is what we can do together:\n\
                 - agree a payment plan that fits your budget\n\
                 - look at lower payments for a while\n\
                 - put you in touch with free, independent debt advice, which can help with all \
                 your bills, not just this one\n\n\
                 You do not need to decide anything now. To talk to a person, call us on \
                 {agent_phone}. If you would like us to call you back at a time that suits you, \
                 call or write to us and tell us when.\n\n\
                 If something else is making things hard, such as your health or a change in \
                 your life, please tell us. It helps us support you in the right way.\n\n\
                 Yours sincerely,\n\
                 {lender_name}",
            ),
            text(
                "ro",
                None,
                "Bună ziua, {first_name},\n\n\
                 Vă scriem pentru a vă oferi ajutorul nostru. Nu am primit o plată recentă pentru \
                 contul dumneavoastră. Oricui i se poate întâmpla asta, iar noi vrem să vă ajutăm \
                 să găsiți o soluție potrivită pentru dumneavoastră.\n\n\
                 Iată ce putem face împreună:\n\
                 - stabilim un plan de plată pe măsura bugetului dumneavoastră\n\
                 - analizăm plăți mai mici pentru o perioadă\n\
                 - vă punem în legătură cu servicii gratuite și independente de consiliere \
                 privind datoriile, care vă pot ajuta cu toate facturile, nu doar cu aceasta\n\n\
                 Nu trebuie să decideți nimic acum. Pentru a vorbi cu o persoană, sunați-ne la \
                 {agent_phone}. Dacă doriți să vă sunăm noi la o oră care vă convine, sunați-ne \
                 sau scrieți-ne și spuneți-ne când.\n\n\
                 Dacă treceți prin alte greutăți, de exemplu legate de sănătate sau de o \
                 schimbare în viața dumneavoastră, vă rugăm să ne spuneți. Așa vă putem sprijini \
                 cum trebuie.\n\n\
                 Cu stimă,\n\
                 {lender_name}",
            ),
            text(
                "es",
                None,
                "Hola, {first_name}:\n\n\
                 Le escribimos para ofrecerle nuestra ayuda. No hemos recibido un pago reciente \
                 de su cuenta. Esto le puede pasar a cualquiera, y queremos ayudarle a encontrar \
                 una solución que le funcione.\n\n\
                 Esto es lo que podemos hacer juntos:\n\
                 - acordar un plan de pagos que se ajuste a su presupuesto\n\
                 - estudiar pagos más bajos durante un tiempo\n\
                 - ponerle en contacto con asesoramiento gratuito e independiente sobre deudas, \
                 que puede ayudarle con todas sus facturas, no solo con esta\n\n\
                 No tiene que decidir nada ahora. Para hablar con una persona, llámenos al \
                 {agent_phone}. Si prefiere que le llamemos nosotros a la hora que mejor le \
                 venga, llámenos o escríbanos y díganos cuándo.\n\n\
                 Si está pasando por otras dificultades, como problemas de salud o un cambio en \
                 su vida, cuéntenoslo. Así podremos apoyarle mejor.\n\n\
                 Atentamente,\n\
                 {lender_name}",
            ),
        ],
    }
}

fn early_reminder_email() -> Template {
    Template {
        id: "early-reminder-email",
        name: "Early payment reminder (email)".into(),
        channel: Channel::Email,
        stage: TemplateStage::Early,
        purpose: ContactPurpose::PaymentDemand,
        version: 1,
        texts: vec![
            text(
                "en",
                Some("About your recent payment"),
                "Hello {first_name},\n\n\
                 We noticed that your payment of {amount_due}, due on {due_date}, has not \
                 reached us. We are here to help if things are hard right now. If you have \
                 already paid, thank you, and please ignore this email.\n\n\
                 If you would like some help, we can:\n\
                 - agree a payment plan that fits your budget\n\
                 - put you in touch with free, independent debt advice\n\n\
                 To pay, or to talk it through with a person, call us on {agent_phone}. You can \
                 also reply to this email with a good time and we will call you back.\n\n\
                 Kind regards,\n\
                 {lender_name}",
            ),
            text(
                "ro",
                Some("Despre plata dumneavoastră recentă"),
                "Bună ziua, {first_name},\n\n\
                 Am observat că plata de {amount_due}, scadentă la {due_date}, nu a ajuns la noi. \
                 Suntem aici să vă ajutăm dacă vă este greu în această perioadă. Dacă ați plătit \
                 deja, vă mulțumim și vă rugăm să ignorați acest mesaj.\n\n\
                 Dacă aveți nevoie de ajutor, iată ce putem face:\n\
                 - stabilim împreună un plan de plată pe măsura bugetului dumneavoastră\n\
                 - vă punem în legătură cu servicii gratuite și independente de consiliere \
                 privind datoriile\n\n\
                 Pentru a plăti sau pentru a vorbi cu o persoană, sunați-ne la {agent_phone}. \
                 Puteți și să răspundeți la acest e-mail cu o oră potrivită, iar noi vă \
                 sunăm.\n\n\
                 Cu stimă,\n\
                 {lender_name}",
            ),
        ],
    }
}

fn early_reminder_sms() -> Template {
    Template {
        id: "early-reminder-sms",
        name: "Early payment reminder (SMS)".into(),
        channel: Channel::Sms,
        stage: TemplateStage::Early,
        purpose: ContactPurpose::PaymentDemand,
        version: 1,
        texts: vec![
            text(
                "en",
                None,
                "Hello {first_name}, {lender_name} here. We noticed your payment of {amount_due} \
                 due on {due_date} has not reached us. If things are hard right now, we can help. \
                 Call {agent_phone} to talk to a person, or reply with a good time and we will \
                 call you back.",
            ),
            text(
                "ro",
                None,
                "Bună ziua, {first_name}, vă scrie {lender_name}. Am observat că plata de \
                 {amount_due}, scadentă la {due_date}, nu a ajuns la noi. Dacă vă este greu, vă \
                 putem ajuta. Sunați-ne la {agent_phone} ca să vorbiți cu o persoană sau \
                 răspundeți cu o oră potrivită și vă sunăm noi.",
            ),
        ],
    }
}

fn plan_confirmation_email() -> Template {
    Template {
        id: "plan-confirmation-email",
        name: "Payment plan confirmation (email)".into(),
        channel: Channel::Email,
        stage: TemplateStage::Service,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![
            text(
                "en",
                Some("Your payment plan is set up"),
                "Hello {first_name},\n\n\
                 Thank you for setting up a payment plan with us. Here are the details:\n\
                 - Monthly payment: {monthly_amount}\n\
                 - First payment: {first_payment_date}\n\n\
                 If a payment does not reach us, we will get in touch to check that you are OK. \
                 If your situation changes, please tell us. We can change the plan with you. To \
                 talk to a person, call us on {agent_phone}.\n\n\
                 Kind regards,\n\
                 {lender_name}",
            ),
            text(
                "ro",
                Some("Planul dumneavoastră de plată este stabilit"),
                "Bună ziua, {first_name},\n\n\
                 Vă mulțumim că ați stabilit un plan de plată împreună cu noi. Iată detaliile:\n\
                 - Plata lunară: {monthly_amount}\n\
                 - Prima plată: {first_payment_date}\n\n\
                 Dacă o plată nu ajunge la noi, vă vom contacta ca să ne asigurăm că sunteți \
                 bine. Dacă situația dumneavoastră se schimbă, vă rugăm să ne spuneți. Putem \
                 modifica planul împreună. Pentru a vorbi cu o persoană, sunați-ne la \
                 {agent_phone}.\n\n\
                 Cu stimă,\n\
                 {lender_name}",
            ),
        ],
    }
}

fn missed_installment_checkin_sms() -> Template {
    Template {
        id: "missed-installment-checkin-sms",
        name: "Missed plan payment: a check-in (SMS)".into(),
        channel: Channel::Sms,
        stage: TemplateStage::Service,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![
            text(
                "en",
                None,
                "Hello {first_name}, {lender_name} here. Your plan payment due on {due_date} has \
                 not reached us. Is everything OK? Your plan is still in place. If things have \
                 changed, we can adjust it with you. Call {agent_phone} or reply with a good time \
                 to talk.",
            ),
            text(
                "ro",
                None,
                "Bună ziua, {first_name}, vă scrie {lender_name}. Plata din planul \
                 dumneavoastră, scadentă la {due_date}, nu a ajuns la noi. Este totul în regulă? \
                 Planul rămâne activ. Dacă s-a schimbat ceva, îl putem ajusta împreună. Sunați-ne \
                 la {agent_phone} sau răspundeți cu o oră potrivită pentru a vorbi.",
            ),
        ],
    }
}

fn breathing_space_ack_letter() -> Template {
    Template {
        id: "breathing-space-ack-letter",
        name: "Breathing space acknowledgement (letter)".into(),
        channel: Channel::Letter,
        stage: TemplateStage::Service,
        purpose: ContactPurpose::Support,
        version: 1,
        texts: vec![
            text(
                "en",
                None,
                "Dear {first_name},\n\n\
                 We have been told that you have a breathing space, starting on \
                 {breathing_space_start}. A breathing space gives you time to get advice and to \
                 get back on track.\n\n\
                 While it lasts:\n\
                 - we will not ask you to pay this debt\n\
                 - we will not add interest or charges to it\n\
                 - we will work with your debt adviser, if you have one\n\n\
                 You can still make payments if you want to, but you do not have to.\n\n\
                 If you want to talk to a person, or if anything worries you, call us on \
                 {agent_phone}. We are here to help.\n\n\
                 Yours sincerely,\n\
                 {lender_name}",
            ),
            text(
                "ro",
                None,
                "Bună ziua, {first_name},\n\n\
                 Am fost informați că beneficiați de o perioadă de protecție (perioadă de \
                 respiro), începând cu {breathing_space_start}. Această perioadă vă oferă timp \
                 să primiți consiliere și să vă puneți finanțele în ordine.\n\n\
                 Pe durata acestei perioade:\n\
                 - nu vă vom cere să plătiți această datorie\n\
                 - nu vom adăuga dobânzi sau comisioane la ea\n\
                 - vom colabora cu consilierul dumneavoastră pentru datorii, dacă aveți unul\n\n\
                 Puteți face în continuare plăți, dacă doriți, dar nu este obligatoriu.\n\n\
                 Dacă doriți să vorbiți cu o persoană sau dacă vă îngrijorează ceva, sunați-ne \
                 la {agent_phone}. Suntem aici să vă ajutăm.\n\n\
                 Cu stimă,\n\
                 {lender_name}",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_collections_template_stage_waits_for_something_past_due() {
        use rapport_proto::plans::v1::DelinquencyStage;
        let thresholds = [1, 30, 90, 180];
        let accounts = [
            (DelinquencyStage::Current, 0),
            (DelinquencyStage::Early, 10),
            (DelinquencyStage::Mid, 45),
            (DelinquencyStage::Late, 100),
            (DelinquencyStage::Severe, 200),
        ];
        let template_stages = [
            (TemplateStage::FirstContact, true),
            (TemplateStage::Early, true),
            (TemplateStage::Mid, true),
            (TemplateStage::Late, true),
            (TemplateStage::Service, false),
        ];
        for (account_stage, days) in accounts {
            assert_eq!(
                crate::domain::account::delinquency_stage(days, thresholds),
                account_stage
            );
            let past_due = days > 0;
            for (template_stage, collections) in template_stages {
                let refusal = stage_refusal(template_stage, past_due);
                assert_eq!(
                    refusal.is_some(),
                    collections && account_stage == DelinquencyStage::Current,
                    "{account_stage:?} x {template_stage:?}"
                );
                if let Some(refusal) = refusal {
                    assert_eq!(refusal.code, "NOTHING_PAST_DUE");
                }
            }
        }
        // Every shipped template's stage is in the table.
        for template in shipped() {
            assert!(
                template_stages.iter().any(|(s, _)| *s == template.stage),
                "{}",
                template.id
            );
        }
    }

    #[test]
    fn the_locale_is_the_requests_then_the_customers_then_english() {
        assert_eq!(
            choose_locale("es", Some("ro-RO")),
            ("es".to_owned(), LocaleSource::Request)
        );
        assert_eq!(
            choose_locale(" ", Some("ro-RO")),
            ("ro-RO".to_owned(), LocaleSource::Customer)
        );
        assert_eq!(
            choose_locale("", Some("")),
            ("en".to_owned(), LocaleSource::Fallback)
        );
        assert_eq!(
            choose_locale("", None),
            ("en".to_owned(), LocaleSource::Fallback)
        );
    }

    #[test]
    fn a_name_matches_a_word_or_the_whole_of_the_legal_or_preferred_name() {
        assert!(name_matches("Ana", "Ana Ionescu", ""));
        assert!(name_matches("ana ionescu", "Ana Ionescu", ""));
        assert!(name_matches("Stefan", "Ștefan Popa", ""));
        assert!(name_matches("Nia", "Ana Ionescu", "Nia"));
        assert!(!name_matches("Alex", "Ana Ionescu", "Nia"));
        assert!(!name_matches("Ana Popa", "Ana Ionescu", ""));
        assert!(!name_matches(" ", "Ana Ionescu", ""));
        assert_eq!(first_name("Ana Ionescu", ""), Some("Ana".to_owned()));
        assert_eq!(first_name("Ana Ionescu", "Nia"), Some("Nia".to_owned()));
        assert_eq!(first_name("", ""), None);
    }

    #[test]
    fn amounts_follow_the_locale_and_the_currencys_exponent() {
        use rapport_money::{Currency, Money};
        let kwd = Currency::parse("KWD").expect("in the table");
        assert_eq!(
            format_money(Money::from_minor(Currency::EUR, 123_456), "en-GB"),
            "EUR 1,234.56"
        );
        assert_eq!(
            format_money(Money::from_minor(Currency::RON, 123_456), "ro"),
            "1.234,56 RON"
        );
        assert_eq!(
            format_money(Money::from_minor(Currency::JPY, 1_500_000), "en"),
            "JPY 1,500,000"
        );
        assert_eq!(
            format_money(Money::from_minor(kwd, 1_234), "es"),
            "1,234 KWD"
        );
        assert_eq!(
            format_money(Money::from_minor(Currency::EUR, 5), "ro-RO"),
            "0,05 EUR"
        );
    }

    #[test]
    fn link_opt_outs_are_the_channels_that_need_to_know_whose_they_are() {
        for channel in [
            Channel::Email,
            Channel::InApp,
            Channel::Push,
            Channel::WebChat,
        ] {
            assert!(opt_out_is_link(channel), "{channel:?}");
        }
        for channel in [
            Channel::Sms,
            Channel::Messaging,
            Channel::Letter,
            Channel::Phone,
        ] {
            assert!(!opt_out_is_link(channel), "{channel:?}");
        }
    }

    fn codes(reasons: &[Explanation]) -> Vec<&'static str> {
        reasons.iter().map(|r| r.code).collect()
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
                &format!(
                    "Hello {{first_name}}, we are here to help. Call {{agent_phone}}. {extra}"
                ),
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

    // ------------------------------------------------------------ shipped

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
            assert_eq!(structure_check(&template), vec![], "{}", template.id);
            assert_eq!(tone_check(&template), vec![], "{}", template.id);
            let reasons = tone_check_reasons(&template);
            assert_eq!(
                codes(&reasons),
                vec!["TONE_CHECK_PASSED"],
                "{}",
                template.id
            );
            let id = template.id;
            assert_eq!(register(template.clone()), Ok(template), "{id}");
        }
    }

    #[test]
    fn required_values_are_sorted_unique_and_as_documented() {
        let by_id: BTreeMap<_, _> = shipped()
            .into_iter()
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
            .into_iter()
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

    // ------------------------------------------------------------ tone check

    /// Bad phrasings, odd casing, with and without diacritics (and cedilla and decomposed
    /// forms), and the list entry each must be caught by.
    const BAD_PHRASINGS: &[(&str, &str)] = &[
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
        for list in [
            THREAT_PHRASES,
            HELP_PHRASES,
            HUMAN_CONTACT_PHRASES,
            JARGON_PHRASES,
        ] {
            let mut seen = BTreeMap::new();
            for &phrase in list {
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
        let body = format!(
            "Dear {{first_name}}, your arrears are shown below. {long}. Call {{agent_phone}}."
        );
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

    // ------------------------------------------------------------ rendering

    fn expected_opt_out_line(channel: Channel, locale: &str, opt_out: &OptOut) -> String {
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
            let values = values_for(&template);
            for locale in template.locales() {
                let rendered = render(&template, locale, &values, &opt_out).expect("renders");
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
                .map(|r| (r.code, r.effect, param(r, "used").unwrap_or("").to_owned()))
                .collect();
            (r.locale, fallback)
        };
        let neutral = |code, used: &str| vec![(code, ReasonEffect::Neutral, used.to_owned())];
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

    // ------------------------------------------------------------ properties

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
}
