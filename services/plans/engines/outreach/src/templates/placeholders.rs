//! `{name}` placeholders: reading them, and refusing malformed ones.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BadPlaceholder {
    pub(super) detail: &'static str,
    /// The text from the offending brace on, shortened.
    pub(super) near: String,
}

impl BadPlaceholder {
    pub(super) fn at(text: &str, at: usize, detail: &'static str) -> Self {
        Self {
            detail,
            near: text[at..].chars().take(24).collect(),
        }
    }
}

pub(super) fn is_placeholder_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.len() <= 64
}

/// Splits template text into literals and `{name}` placeholders; any other brace is an error.
pub(super) fn pieces(text: &str) -> Result<Vec<Piece<'_>>, BadPlaceholder> {
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
pub(super) fn placeholder_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('{')?;
    let close = rest.find('}')?;
    is_placeholder_name(&rest[..close]).then_some(close + 2)
}
