//! Rules on whether, how and about what the customer may be contacted at all: do-not-contact,
//! refused and opted-out channels, electronic consent, protected states, vulnerability holds,
//! nothing past due and the opt-out notice.

use super::*;

/// Notices the law requires (arrears and default notices, FDCPA §805(c) notices of remedies)
/// go by letter even when the customer asked for no contact or refused the channel.
pub(super) fn is_statutory_letter(request: &Request) -> bool {
    request.purpose == ContactPurpose::StatutoryNotice && request.channel == Channel::Letter
}

/// Collections contact: a payment demand, and an unspecified purpose, read as the most
/// restricted one. Help, service messages and statutory notices are not collections contact.
pub fn is_collections(purpose: ContactPurpose) -> bool {
    matches!(
        purpose,
        ContactPurpose::PaymentDemand | ContactPurpose::Unspecified
    )
}

/// Channels that reach the customer at the moment they are used (DESIGN.md hours floor).
/// Email lands when the customer next looks and a letter with the post; web chat, online
/// banking and the branch are the customer's own visits.
pub(super) fn reaches_at_a_moment(channel: Channel) -> bool {
    matches!(
        channel,
        Channel::Phone
            | Channel::Visit
            | Channel::Video
            | Channel::Sms
            | Channel::Push
            | Channel::InApp
            | Channel::Messaging
    )
}

/// Channels whose messages carry an opt-out (Reg F 1006.6(e) "electronic communications").
pub(super) fn is_electronic(channel: Channel) -> bool {
    matches!(
        channel,
        Channel::Email | Channel::Sms | Channel::InApp | Channel::Push | Channel::Messaging
    )
}

/// Rule 1, everywhere (12 CFR 1006.6(c); CONC 7.9.4R): a do-not-contact flag closes every
/// channel; a statutory notice may still be sent by letter.
pub(super) fn do_not_contact(cx: &Context<'_>) -> Check {
    let rule = ContactRule::DoNotContact;
    if !cx.inputs.customer.do_not_contact {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer has not asked us to stop contacting them.",
        ));
    }
    if is_statutory_letter(&cx.request) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer asked us not to contact them, but a notice the law requires may still \
             be sent by letter.",
        ));
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            "The customer asked us not to contact them; only notices the law requires may be \
             sent, by letter.",
        ),
        Block::Indefinitely,
    )
}

/// Rule 2a, everywhere (12 CFR 1006.14(h)(1); CONC 7.9.4R "how they may be contacted"): a
/// channel the customer refused is closed.
pub(super) fn refused_channel(cx: &Context<'_>) -> Check {
    let rule = ContactRule::RefusedChannel;
    let channel = cx.request.channel;
    let refused = cx.inputs.customer.refused_channels.contains(&channel);
    if !refused {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                format!(
                    "The customer has not refused contact by {}.",
                    cx.channel_label()
                ),
            )
            .param("channel", channel.as_str_name()),
        );
    }
    if is_statutory_letter(&cx.request) {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                "The customer refused letters, but a notice the law requires is still sent by \
                 letter.",
            )
            .param("channel", channel.as_str_name()),
        );
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!("The customer refused contact by {}.", cx.channel_label()),
        )
        .param("channel", channel.as_str_name()),
        Block::Indefinitely,
    )
}

/// Rule 2b, everywhere (12 CFR 1006.6(e)): every electronic message carries an opt-out, and a
/// channel the customer opted out of is closed. Opt-outs come from the profile and the ledger.
pub(super) fn opted_out_channel(cx: &Context<'_>) -> Check {
    let rule = ContactRule::OptedOutChannel;
    let channel = cx.request.channel;
    let in_profile = cx.inputs.customer.opted_out_channels.contains(&channel);
    let in_ledger = cx
        .earlier_attempts()
        .any(|a| a.channel == channel && a.outcome == ContactOutcome::OptedOut);
    if !(in_profile || in_ledger) || is_statutory_letter(&cx.request) {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                format!("The customer has not opted out of {}.", cx.channel_label()),
            )
            .param("channel", channel.as_str_name()),
        );
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!(
                "The customer opted out of {}; the channel is closed.",
                cx.channel_label()
            ),
        )
        .param("channel", channel.as_str_name())
        .param(
            "recorded_in",
            if in_profile {
                "profile"
            } else {
                "contact ledger"
            },
        ),
        Block::Indefinitely,
    )
}

/// Rule 2c, everywhere: a customer who withdrew consent to collections contact by electronic
/// channels is not contacted that way; no decision recorded is neutral (the opt-out in every
/// message stays the customer's control).
pub(super) fn electronic_consent(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ElectronicConsent;
    if !is_electronic(cx.request.channel) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!(
                "Consent to electronic contact does not concern {}.",
                cx.channel_label()
            ),
        ));
    }
    match cx.inputs.customer.electronic_collections_consent {
        Some(true) => Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer agreed to be contacted about their account electronically.",
        )),
        None => Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "The customer has recorded no decision on electronic contact; the message carries \
             an opt-out.",
        )),
        Some(false) => Check::block(
            cx.reason(
                rule,
                ReasonEffect::Opposes,
                "The customer withdrew consent to be contacted about their account electronically.",
            ),
            Block::Indefinitely,
        ),
    }
}

/// Rule 3, everywhere (Debt Respite Scheme Regulations 2020; DESIGN.md protected states): while
/// a protected state holds, no payment demand is made — in a breathing space the debt adviser
/// is the contact point. Support and notices the law requires remain allowed.
pub(super) fn protected_state(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ProtectedState;
    let in_force: Vec<&ProtectionPeriod> = cx.inputs.protections.in_force(cx.request.at).collect();
    if in_force.is_empty() {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "No protected state is in force.",
        ));
    }
    let kinds = in_force
        .iter()
        .map(|p| protection_label(p.kind))
        .collect::<Vec<_>>()
        .join(", ");
    let allowed_anyway = match cx.request.purpose {
        ContactPurpose::Support => Some("an offer of support"),
        ContactPurpose::StatutoryNotice => Some("a notice the law requires"),
        ContactPurpose::PaymentDemand | ContactPurpose::Unspecified => None,
    };
    if let Some(what) = allowed_anyway {
        let message = format!("Payment demands are stopped ({kinds}); {what} remains allowed.");
        return Check::pass(
            cx.reason(rule, ReasonEffect::Supports, message)
                .param("protections", &kinds),
        );
    }
    let adviser = in_force.iter().any(|p| {
        matches!(
            p.kind,
            ProtectionKind::BreathingSpace | ProtectionKind::MentalHealthCrisis
        )
    });
    let contact_point = if adviser {
        "; the debt adviser is the contact point"
    } else {
        ""
    };
    let message = format!("No payment demand while {kinds} is in force{contact_point}.");
    Check::block(
        cx.reason(rule, ReasonEffect::Opposes, message)
            .param("protections", &kinds),
        latest_protection_end(&in_force),
    )
}

/// When all of `periods` have ended; `Indefinitely` if one is open-ended.
pub(super) fn latest_protection_end(periods: &[&ProtectionPeriod]) -> Block {
    periods
        .iter()
        .try_fold(Timestamp::MIN, |latest, p| {
            p.ends_at.map(|end| latest.max(end))
        })
        .map_or(Block::Indefinitely, Block::Until)
}

pub(super) fn vulnerability_holds(
    protections: &Protections,
    at: Timestamp,
) -> impl Iterator<Item = &ProtectionPeriod> {
    protections
        .in_force(at)
        .filter(|p| p.kind == ProtectionKind::VulnerabilityHold)
}

/// Rule 3b, everywhere (FCA FG21/1; DESIGN.md): a vulnerability hold, or a vulnerability
/// profiles records, routes contact to a specialist and forbids automated contact (automated
/// dialling above all) until it ends.
pub(super) fn vulnerability_hold(cx: &Context<'_>) -> Check {
    let rule = ContactRule::VulnerabilityHold;
    let holds: Vec<&ProtectionPeriod> =
        vulnerability_holds(cx.inputs.protections, cx.request.at).collect();
    let recorded = cx.inputs.customer.vulnerable;
    if holds.is_empty() && !recorded {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "No vulnerability hold is in force.",
        ));
    }
    let why = if recorded {
        "Profiles records a vulnerability"
    } else {
        "A vulnerability hold is in force"
    };
    if !cx.request.automated || is_statutory_letter(&cx.request) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!("{why}: a specialist must make this contact."),
        ));
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!("{why}: no automated contact; a specialist must make it."),
        ),
        // The record has no end date: it holds until profiles clears it.
        if recorded {
            Block::Indefinitely
        } else {
            latest_protection_end(&holds)
        },
    )
}

/// Last rule (DESIGN.md): no collections contact without something past due. An account never
/// behind, or back to current, has no debt to demand; nothing says when it will have one.
pub(super) fn nothing_past_due(cx: &Context<'_>) -> Check {
    let rule = ContactRule::NothingPastDue;
    let past_due = cx.request.past_due;
    if !is_collections(cx.request.purpose) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "Help, service messages and statutory notices need nothing past due.",
        ));
    }
    let reason = |effect, message: &str| {
        cx.reason(rule, effect, message)
            .param("days_past_due", past_due.days)
            .param("arrears_minor_units", past_due.arrears)
    };
    if past_due.anything() {
        return Check::pass(reason(
            ReasonEffect::Supports,
            "Something on the account is past due.",
        ));
    }
    Check::block(
        reason(
            ReasonEffect::Opposes,
            "Nothing on the account is past due: there is no debt to contact the customer about.",
        ),
        Block::Indefinitely,
    )
}

/// Rule 9, everywhere (12 CFR 1006.6(e); DESIGN.md): an electronic message carries a simple
/// opt-out; the renderer adds it. Context only.
pub(super) fn electronic_opt_out(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ElectronicOptOut;
    let message = if is_electronic(cx.request.channel) {
        "The message must carry a simple way to opt out; the renderer adds it."
    } else {
        "Not an electronic message: no opt-out line needed."
    };
    Check::pass(cx.reason(rule, ReasonEffect::Neutral, message))
}
