//! The one reason type behind a decision, a score, a plan option or a trust figure ("explain
//! everything"). Engines build it without knowing about the wire; `rapport_wire::reason_to_pb`
//! is the one conversion to `rapport.common.v1.Reason`.

use std::borrow::Cow;

/// One reason: what rule gave which effect, in words an agent can read to the customer.
///
/// Maps onto `rapport.common.v1.Reason` field for field. `params` stay in insertion order here
/// so output is deterministic (the proto map is built from them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Stable machine code, UPPER_SNAKE.
    pub code: Cow<'static, str>,
    /// Plain words an agent can read to the customer.
    pub message: String,
    /// The rule's source; empty when none.
    pub rule_ref: Cow<'static, str>,
    pub effect: ReasonEffect,
    /// What the rule used; amounts are minor units written as plain integers.
    pub params: Vec<(String, String)>,
}

impl Reason {
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        effect: ReasonEffect,
        rule_ref: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            rule_ref: rule_ref.into(),
            effect,
            params: Vec::new(),
        }
    }

    /// Adds one parameter the rule used.
    #[must_use]
    pub fn param(mut self, key: &str, value: impl ToString) -> Self {
        self.params.push((key.to_owned(), value.to_string()));
        self
    }
}

/// Whether a reason counts for or against the outcome it explains; mirrors
/// `rapport.common.v1.ReasonEffect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonEffect {
    /// Context only.
    Neutral,
    /// Counts for the outcome (offered, allowed, kept).
    Supports,
    /// Counts against the outcome (excluded, flagged, broken).
    Opposes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_the_order_the_rule_added_them_in() {
        let r = Reason::new("X", ReasonEffect::Neutral, "", "m")
            .param("b", 2)
            .param("a", 1);
        assert_eq!(
            r.params,
            vec![("b".into(), "2".into()), ("a".into(), "1".into())]
        );
    }
}
