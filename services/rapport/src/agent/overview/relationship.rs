//! The relationship: loyalty with its strongest reasons, follow-ups waiting, what we promised
//! the customer, referrals made and trust with its strongest path.

use std::fmt::Write as _;

use rapport_proto::desk::v1 as desk;

use super::super::format::{date, in_zone, indented, instant, words};
use super::Context;

pub(super) fn loyalty(out: &mut String, s: &desk::LoyaltySection) {
    match &s.score {
        Some(score) => loyalty_score(out, score),
        None => out.push_str("Loyalty: no score yet\n"),
    }
}

pub(super) fn follow_ups(out: &mut String, s: &desk::FollowUpsSection, context: &Context<'_>) {
    if s.follow_ups.is_empty() {
        out.push_str("Follow-ups: none waiting\n");
        return;
    }
    out.push_str("Follow-ups waiting:\n");
    let rows: Vec<Vec<String>> = s
        .follow_ups
        .iter()
        .map(|f| {
            vec![
                f.follow_up_id.clone(),
                f.nps.to_string(),
                words(f.status().as_str_name(), "FOLLOW_UP_STATUS_"),
                in_zone(f.due_at.as_ref(), context.zone),
                f.owner_id.clone(),
            ]
        })
        .collect();
    out.push_str(&indented(
        &["FOLLOW-UP", "NPS", "STATUS", "DUE", "OWNER"],
        &rows,
    ));
}

pub(super) fn commitments(out: &mut String, s: &desk::CommitmentsSection) {
    if s.commitments.is_empty() {
        out.push_str("Commitments: none open\n");
        return;
    }
    out.push_str("Commitments we made:\n");
    let rows: Vec<Vec<String>> = s
        .commitments
        .iter()
        .map(|c| {
            vec![
                date(c.due_date.as_ref()),
                words(c.status().as_str_name(), "COMMITMENT_STATUS_"),
                c.description.clone(),
                c.promised_by
                    .as_ref()
                    .map_or("-".to_owned(), |a| a.id.clone()),
            ]
        })
        .collect();
    out.push_str(&indented(&["DUE", "STATUS", "WHAT", "PROMISED BY"], &rows));
}

fn loyalty_score(out: &mut String, score: &rapport_proto::loyalty::v1::LoyaltyScore) {
    let flags: Vec<String> = score
        .flags()
        .map(|f| words(f.as_str_name(), "LOYALTY_FLAG_"))
        .collect();
    let _ = writeln!(
        out,
        "Loyalty {:.1} — segment {}{} (satisfaction {:.1}, involvement {:.1}, affinity {:.1})",
        score.loyalty,
        words(score.segment().as_str_name(), "LOYALTY_SEGMENT_"),
        if flags.is_empty() {
            String::new()
        } else {
            format!("; flags: {}", flags.join(", "))
        },
        score.satisfaction,
        score.involvement,
        score.affinity,
    );
    let mut strongest: Vec<_> = score.explanation.iter().collect();
    strongest.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
    for c in strongest.into_iter().take(3) {
        let _ = writeln!(
            out,
            "  {:+.1} {}: {}",
            c.points,
            words(c.component().as_str_name(), "SCORE_COMPONENT_"),
            c.description
        );
    }
}

pub(super) fn referrals(out: &mut String, s: &desk::ReferralsSection, context: &Context<'_>) {
    let names = context.names;
    if s.referrals_made.is_empty() {
        out.push_str("Referrals made: none\n");
    } else {
        out.push_str("Referrals made:\n");
        let rows: Vec<Vec<String>> = s
            .referrals_made
            .iter()
            .map(|r| {
                vec![
                    r.referral_id.clone(),
                    words(r.status().as_str_name(), "REFERRAL_STATUS_"),
                    if r.referee_customer_id.is_empty() {
                        "not signed up yet".to_owned()
                    } else {
                        names.with_id(&r.referee_customer_id)
                    },
                    instant(r.created_at.as_ref())
                        .map_or("-".to_owned(), |t| t.strftime("%Y-%m-%d").to_string()),
                ]
            })
            .collect();
        out.push_str(&indented(&["REFERRAL", "STATUS", "REFEREE", "MADE"], &rows));
    }
    match &s.trust {
        Some(trust) => {
            let _ = writeln!(
                out,
                "Trust {:.2} (model {})",
                trust.score, trust.model_version
            );
            match trust.paths.first() {
                Some(path) if path.edges.is_empty() => {
                    let _ = writeln!(
                        out,
                        "  trusted from the start: a pre-trusted customer (long tenure, good standing)"
                    );
                }
                Some(path) => {
                    let mut line = String::new();
                    for (i, edge) in path.edges.iter().enumerate() {
                        if i == 0 {
                            line.push_str(&names.or_id(&edge.from_id));
                        }
                        let _ = write!(
                            line,
                            " → ({}) {}",
                            words(edge.kind().as_str_name(), "TRUST_EDGE_KIND_"),
                            names.or_id(&edge.to_id)
                        );
                    }
                    let _ = writeln!(
                        out,
                        "  strongest path: {line}, carrying {:.0}% of it",
                        path.contribution * 100.0
                    );
                }
                None => out.push_str("  no path from a pre-trusted customer\n"),
            }
        }
        None => out.push_str("Trust: not computed\n"),
    }
}
