//! Who a message is for, when it may be sent and how its amounts read: locale choice, the
//! customer's name, collections stages, money in the text's locale.

use super::*;

pub(super) const RULE_NOTHING_PAST_DUE: &str = "DESIGN.md Rules with numbers: Contact (no collections \
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

pub(super) fn folded_words(text: &str) -> Vec<String> {
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

/// Addresses a message to the customer: the `{first_name}` a caller gave must be the customer's
/// own (legal or preferred); when none is given, the customer's own goes in. `Err` when the
/// given name is someone else's.
pub fn address_to(
    values: &mut BTreeMap<String, String>,
    legal_name: &str,
    preferred_name: &str,
) -> Result<(), NotTheirName> {
    match values.get(NAME_PLACEHOLDER) {
        Some(given) if !name_matches(given, legal_name, preferred_name) => Err(NotTheirName),
        Some(_) => Ok(()),
        None => {
            if let Some(name) = first_name(legal_name, preferred_name) {
                values.insert(NAME_PLACEHOLDER.to_owned(), name);
            }
            Ok(())
        }
    }
}

/// The name given for `{first_name}` is not the customer's (legal or preferred).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotTheirName;

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
/// its ISO code: the one formatter every Rapport text uses ([`rapport_money::format_money`]).
pub fn format_money(money: rapport_money::Money, locale: &str) -> String {
    rapport_money::format_money(money, locale)
}
