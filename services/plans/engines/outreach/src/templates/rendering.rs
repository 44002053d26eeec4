//! Rendering: the closest locale, placeholders filled verbatim, the opt-out line appended.

use super::*;

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

pub(super) fn fill(
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

pub(super) fn select_text<'t>(
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
pub(super) enum OptOutStyle {
    /// SMS and messaging apps: reply with a keyword.
    ReplyKeyword,
    /// Email: a personal link.
    EmailLink,
    /// In-app, push, web chat: a personal link.
    Link,
}

impl OptOutStyle {
    pub(super) fn separator(self) -> &'static str {
        match self {
            Self::ReplyKeyword => "\n",
            Self::EmailLink | Self::Link => "\n\n",
        }
    }
}

pub(super) fn opt_out_style(channel: Channel) -> Option<OptOutStyle> {
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
pub(super) fn opt_out_line(
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
