//! What the agent must know before speaking: who the customer is and what time it is there,
//! protections in force, whether we may call now and why, and the next best action.

use std::fmt::Write as _;

use rapport_proto::common::v1 as common;
use rapport_proto::desk::v1 as desk;
use rapport_proto::plans::v1 as plans;
use rapport_proto::profiles::v1 as profiles;

use super::super::format::{date, in_zone, instant, tenure, words};
use super::{Context, Section, not_ok, ok};

pub(super) fn who(
    out: &mut String,
    o: &desk::GetCustomerOverviewResponse,
    customer: Option<&profiles::Customer>,
    context: &Context<'_>,
) {
    let Some(c) = customer else {
        let _ = writeln!(out, "Customer {}", o.customer_id);
        not_ok(
            out,
            "Customer",
            o.customer.as_ref().and_then(Section::state),
        );
        return;
    };
    let zone = context.zone;
    let today = instant(o.as_of.as_ref()).and_then(|t| {
        jiff::tz::TimeZone::get(zone)
            .ok()
            .map(|tz| t.to_zoned(tz).date())
    });
    let _ = writeln!(out, "{}", c.legal_name);
    if !c.preferred_name.is_empty() && c.preferred_name != c.legal_name {
        let _ = writeln!(out, "  likes to be called {}", c.preferred_name);
    }
    let _ = writeln!(
        out,
        "  customer {} · locale {} · time zone {} (their time now: {})",
        o.customer_id,
        c.locale,
        c.time_zone,
        in_zone(o.as_of.as_ref(), zone)
    );
    let since = date(c.customer_since.as_ref());
    let status = words(c.status().as_str_name(), "CUSTOMER_STATUS_");
    match tenure(c.customer_since.as_ref(), today) {
        Some(t) => {
            let _ = writeln!(out, "  customer since {since} ({t}) · {status}");
        }
        None => {
            let _ = writeln!(out, "  customer since {since} · {status}");
        }
    }
    if !c.external_refs.is_empty() {
        let refs: Vec<String> = c
            .external_refs
            .iter()
            .map(|r| format!("{} {}", r.system, r.external_id))
            .collect();
        let _ = writeln!(out, "  external refs: {}", refs.join(", "));
    }
    if !o.merged_from.is_empty() {
        let _ = writeln!(
            out,
            "  (asked for {}, which was merged into this customer)",
            o.merged_from
        );
    }
}

/// Under the name, where nobody misses it: each protection in force, or that the desk could
/// not say whether one is.
pub(super) fn protected_banner(
    out: &mut String,
    section: Option<&desk::ProtectionsSection>,
    context: &Context<'_>,
) {
    match section {
        Some(s) if ok(s.state()) => {
            for p in &s.protections {
                let _ = writeln!(out, "{}", protected_line(p, context.zone));
            }
        }
        other => {
            out.push_str("PROTECTIONS NOT KNOWN: ask no payment until they are. ");
            not_ok(out, "Protections", other.and_then(Section::state));
        }
    }
}

pub(super) fn contact(out: &mut String, s: &desk::ContactSection, context: &Context<'_>) {
    let d = s.decision.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "May we call now? {} — by phone, about {}",
        if d.allowed { "YES" } else { "NO" },
        context.account(&s.account_id)
    );
    // What decides it: the rules that stop the call, or (when it may go ahead) those that
    // allow it; the rest is context, kept in --output json.
    let deciding = if d.allowed {
        common::ReasonEffect::Supports
    } else {
        common::ReasonEffect::Opposes
    };
    let deciding: Vec<common::Reason> = d
        .reasons
        .iter()
        .filter(|r| r.effect() == deciding)
        .cloned()
        .collect();
    reasons(out, &deciding);
    if !d.allowed {
        if instant(d.next_allowed_at.as_ref()).is_some() {
            let _ = writeln!(
                out,
                "  next allowed: {} (the customer's time)",
                in_zone(d.next_allowed_at.as_ref(), context.zone)
            );
        } else {
            out.push_str("  next allowed: none foreseeable\n");
        }
    }
    if d.route_to_specialist {
        out.push_str("  a specialist must make the contact\n");
    }
}

pub(super) fn next_best_action(
    out: &mut String,
    s: &desk::NextBestActionSection,
    context: &Context<'_>,
) {
    let a = s.action.clone().unwrap_or_default();
    let mut line = format!(
        "Next best action: {}",
        words(a.action().as_str_name(), "NEXT_ACTION_KIND_")
    );
    if a.channel != 0 {
        let _ = write!(line, " by {}", words(a.channel().as_str_name(), "CHANNEL_"));
    }
    if a.earliest_at.is_some() {
        let _ = write!(
            line,
            " from {}",
            in_zone(a.earliest_at.as_ref(), context.zone)
        );
    }
    if a.purpose != 0 {
        let _ = write!(
            line,
            ", to {}",
            words(a.purpose().as_str_name(), "CONTACT_PURPOSE_")
        );
    }
    if !a.template_id.is_empty() {
        let _ = write!(line, " (template {})", a.template_id);
    }
    let _ = writeln!(out, "{line} — {}", context.account(&s.account_id));
    reasons(out, &a.reasons);
}

pub(super) fn protections(out: &mut String, s: &desk::ProtectionsSection, context: &Context<'_>) {
    if s.protections.is_empty() {
        out.push_str("Protections: none in force\n");
        return;
    }
    out.push_str("Protections in force:\n");
    for p in &s.protections {
        let covers = if p.account_ids.is_empty() {
            "every account".to_owned()
        } else {
            p.account_ids
                .iter()
                .map(|id| context.account(id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "  {}", protected_line(p, context.zone));
        let _ = writeln!(out, "    covers {covers}; effects: {}", effects(p));
        if !p.reference.is_empty() {
            let _ = writeln!(out, "    reference {}", p.reference);
        }
    }
}

/// "PROTECTED: breathing space (active) until Thu 2026-04-30 00:00 EEST — no payment demands".
fn protected_line(p: &plans::Protection, zone: &str) -> String {
    let until = if p.ends_at.is_some() {
        format!("until {}", in_zone(p.ends_at.as_ref(), zone))
    } else {
        "open-ended".to_owned()
    };
    let mut line = format!(
        "PROTECTED: {} ({}) {until}",
        words(p.kind().as_str_name(), "PROTECTION_KIND_"),
        words(p.status().as_str_name(), "PROTECTION_STATUS_"),
    );
    if p.effects()
        .any(|e| e == plans::ProtectionEffect::StopPaymentDemands)
    {
        line.push_str(" — no payment demands");
    }
    line
}

fn effects(p: &plans::Protection) -> String {
    let all: Vec<String> = p
        .effects()
        .map(|e| words(e.as_str_name(), "PROTECTION_EFFECT_"))
        .collect();
    if all.is_empty() {
        "-".to_owned()
    } else {
        all.join(", ")
    }
}

/// Reasons in words, those against first: "✗" against, "·" context, "✓" for.
fn reasons(out: &mut String, reasons: &[common::Reason]) {
    let mut sorted: Vec<&common::Reason> = reasons.iter().collect();
    sorted.sort_by_key(|r| match r.effect() {
        common::ReasonEffect::Opposes => 0,
        common::ReasonEffect::Neutral | common::ReasonEffect::Unspecified => 1,
        common::ReasonEffect::Supports => 2,
    });
    for r in sorted {
        let mark = match r.effect() {
            common::ReasonEffect::Opposes => "✗",
            common::ReasonEffect::Supports => "✓",
            _ => "·",
        };
        let _ = writeln!(out, "  {mark} {}", r.message);
    }
}
