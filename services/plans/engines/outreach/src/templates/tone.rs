//! The tone check: no threats early, help first, a person to talk to, no shouting, plain words.

use std::sync::LazyLock;

use super::*;

/// The tone check's phrase lists (`tone.toml`, embedded): threats and legal-action language,
/// offers of help, ways to reach a person, jargon, and upper-case words that are names rather
/// than shouting. Matching ignores case and diacritics; `*` ends a prefix (`bailiff*` finds
/// "bailiffs"), `#` stands for a number or a placeholder. A template directory can change a
/// template's wording but not these lists: what counts as a threat is part of the engine.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhraseLists {
    /// Not allowed at stages FirstContact and Early, nor in any Support template.
    pub(super) threats: Vec<String>,
    pub(super) help: Vec<String>,
    /// Besides the `{agent_phone}` placeholder.
    pub(super) human_contact: Vec<String>,
    pub(super) jargon: Vec<String>,
    /// Upper-case words of 4+ letters that are names, not shouting.
    pub(super) acronyms: Vec<String>,
}

const TONE_FILE: &str = "tone.toml";

/// Parsed once; the embedded file is checked by the tests, so this cannot fail in a built engine.
static PHRASES: LazyLock<PhraseLists> = LazyLock::new(|| {
    toml::from_str(include_str!("../../tone.toml"))
        .unwrap_or_else(|e| panic!("{TONE_FILE} (embedded) is not a valid phrase list: {e}"))
});

/// The tone check's phrase lists, loaded once.
pub(super) fn phrases() -> &'static PhraseLists {
    &PHRASES
}

pub(super) const HUMAN_CONTACT_PLACEHOLDER: &str = "agent_phone";

/// Which tone rules apply to a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ToneRules {
    pub(super) no_threats: bool,
    pub(super) help_offered: bool,
    pub(super) plain_words: bool,
}

impl ToneRules {
    pub(super) fn for_template(template: &Template) -> Self {
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

    pub(super) fn names(self) -> Vec<&'static str> {
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
                for found in distinct(find_phrases(&phrases().threats, tokens)) {
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
                *field == "subject" && !find_phrases(&phrases().help, tokens).is_empty()
            });
            let first_in_body = fields
                .iter()
                .filter(|(field, _, _)| *field == "body")
                .flat_map(|(_, _, tokens)| find_phrases(&phrases().help, tokens))
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
                || !find_phrases(&phrases().human_contact, tokens).is_empty()
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
                    && !phrases().acronyms.contains(&token.folded)
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
                for found in distinct(find_phrases(&phrases().jargon, tokens)) {
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
