//! Phrase matching over folded words (case and diacritics ignored), with word boundaries.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Word,
    Number,
    /// A well-formed `{name}`; `folded` holds the name.
    Placeholder,
}

/// One word of a text: lowercased and without diacritics in `folded`, with its byte span in the
/// original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) folded: String,
    pub(super) kind: TokenKind,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

pub(super) fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02bc}')
}

/// Lowercases `c` and folds diacritics: ș/ş → s, ț/ţ → t, ă/â → a, î → i, and the accents of
/// Spanish and other Latin scripts; combining marks (decomposed text) are dropped.
pub(super) fn fold_into(c: char, out: &mut String) {
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

pub(super) fn tokens(text: &str) -> Vec<Token> {
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

pub(super) fn flush(current: &mut Option<Token>, out: &mut Vec<Token>) {
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
pub(super) fn sentences(text: &str, tokens: &[Token]) -> Vec<std::ops::Range<usize>> {
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
pub(super) enum PatternToken {
    Exact(String),
    Prefix(String),
    /// `#`: a number or a placeholder.
    Number,
}

pub(super) fn compile(phrase: &str) -> Vec<PatternToken> {
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

pub(super) fn matches_at(pattern: &[PatternToken], tokens: &[Token], at: usize) -> bool {
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
pub(super) struct PhraseMatch {
    pub(super) phrase: &'static str,
    /// Token indices, inclusive.
    pub(super) first: usize,
    pub(super) last: usize,
}

impl PhraseMatch {
    /// The words as written in the text.
    pub(super) fn source<'a>(&self, text: &'a str, tokens: &[Token]) -> &'a str {
        &text[tokens[self.first].start..tokens[self.last].end]
    }
}

/// Every occurrence of every phrase; where matches overlap, the widest is kept ("ultimă
/// somație" rather than "somați*" inside it).
pub(super) fn find_phrases(phrases: &'static [String], tokens: &[Token]) -> Vec<PhraseMatch> {
    let mut found = Vec::new();
    for phrase in phrases {
        let phrase = phrase.as_str();
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
pub(super) fn distinct(matches: Vec<PhraseMatch>) -> Vec<PhraseMatch> {
    let mut seen = BTreeSet::new();
    matches
        .into_iter()
        .filter(|m| seen.insert(m.phrase))
        .collect()
}
