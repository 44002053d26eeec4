//! Registration: a template is admitted only when it is well formed and passes the tone check.

use super::*;

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

pub(super) fn join(names: &BTreeSet<&str>) -> String {
    names.iter().copied().collect::<Vec<_>>().join(",")
}

pub(super) fn is_template_id(id: &str) -> bool {
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
pub(super) fn is_locale(locale: &str) -> bool {
    let mut subtags = locale.split('-');
    let language_ok = subtags
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    language_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The primary language subtag, lowercased: `ro-RO` → `ro`.
pub(super) fn language(locale: &str) -> String {
    locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn english_text(template: &Template) -> Option<&Text> {
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

pub(super) fn text_fields(text: &Text) -> impl Iterator<Item = (&'static str, &str)> {
    text.subject
        .as_deref()
        .map(|s| ("subject", s))
        .into_iter()
        .chain(std::iter::once(("body", text.body.as_str())))
}

pub(super) fn text_placeholders(text: &Text) -> BTreeSet<&str> {
    text_fields(text)
        .filter_map(|(_, value)| pieces(value).ok())
        .flatten()
        .filter_map(|piece| match piece {
            Piece::Placeholder(name) => Some(name),
            Piece::Literal(_) => None,
        })
        .collect()
}
