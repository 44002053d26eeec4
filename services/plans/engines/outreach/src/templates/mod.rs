//! Message templates for outreach: the texts we ship, the tone check a template passes before it
//! can be used, and rendering with the opt-out line. The shipped texts and the tone phrase lists
//! are data files (`templates/<id>.toml`, `tone.toml`), embedded and loaded once; a directory of
//! template files can be loaded instead ([`load_dir`]), through the same checks.
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

use crate::{Explanation, ReasonEffect};

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

mod addressing;
mod matching;
mod placeholders;
mod registration;
mod rendering;
mod selection;
mod shipped;
mod template;
#[cfg(test)]
mod tests;
mod tone;

pub use addressing::*;
use matching::*;
use placeholders::*;
pub use registration::*;
pub use rendering::*;
pub use selection::*;
pub use shipped::*;
pub use template::*;
pub use tone::*;
