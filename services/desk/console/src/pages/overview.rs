//! Overview (GET /customers/{id}): every section of DeskService/GetCustomerOverview. What the
//! agent must know before speaking comes first — may we call now, the next best action — then
//! protections and vulnerability as a banner that cannot be missed, then the rest. A section
//! that did not come back OK says so in words, never as "none".

use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri};
use maud::{Markup, html};
use rapport_proto::common::v1 as common;
use rapport_proto::desk::v1 as desk;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::plans::v1 as plans;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::referrals::v1 as referrals;

use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::format::{Audience, channel_words, display_name, enum_words, name, short_id};
use crate::layout::{failure_banner, notice, page as shell, respond, section_unavailable};

pub(crate) async fn page(
    State(console): State<Console>,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let agent = match console.agent(&headers) {
        Ok(agent) => agent,
        Err(redirect) => return redirect,
    };
    let chrome = console.chrome(&agent);
    let request = desk::GetCustomerOverviewRequest {
        customer_id: customer_id.clone(),
        channel: common::Channel::Phone as i32,
    };
    let answer = console
        .suite
        .desk
        .clone()
        .get_customer_overview(console.suite.request(request, &agent))
        .await;
    let overview = match answer {
        Ok(answer) => answer.into_inner(),
        Err(status) => {
            let failure = Failure::from_status(&status, &FieldMap::new());
            let body = html! {
                h1 { "Customer overview" }
                (failure_banner(&failure, "show this customer's overview"))
                p { a href="/" { "Find a customer" } }
            };
            return respond(
                failure.http_status(),
                shell(&chrome, "Customer overview", body),
            );
        }
    };
    let code = super::query(&uri, "notice");
    let body = body(&overview, Some(&code));
    respond(StatusCode::OK, shell(&chrome, "Customer overview", body))
}

/// The overview's page body, every section in the order the agent needs them.
pub(crate) fn body(
    overview: &desk::GetCustomerOverviewResponse,
    notice_code: Option<&str>,
) -> Markup {
    let customer = overview
        .customer
        .as_ref()
        .filter(|s| ok(s.state.as_ref()))
        .and_then(|s| s.customer.as_ref());
    let audience = customer.map_or_else(Audience::default, |c| Audience {
        locale: c.locale.clone(),
        time_zone: c.time_zone.clone(),
    });
    html! {
        (notice(notice_code))
        (heading(overview, customer))
        (contact(overview, &audience))
        (next_best_action(overview, &audience))
        (protections(overview, customer, &audience))
        (accounts(overview, &audience))
        (hardship(overview, &audience))
        (plans_section(overview, &audience))
        (promises(overview, &audience))
        (loyalty_section(overview))
        (follow_ups(overview, &audience))
        (commitments(overview, &audience))
        (referrals_section(overview, &audience))
        p class="meta" { "Put together at " (audience.time(overview.as_of.as_ref())) "." }
    }
}

fn ok(state: Option<&desk::SectionState>) -> bool {
    state.is_some_and(|s| s.status == desk::SectionStatus::Ok as i32)
}

/// The section's own state when it is not OK, in words.
fn not_ok(what: &str, state: Option<&desk::SectionState>) -> Option<Markup> {
    match state {
        Some(s) if s.status == desk::SectionStatus::Ok as i32 => None,
        Some(s) => Some(section_unavailable(what, s.status, &s.detail)),
        None => Some(section_unavailable(what, 0, "no answer")),
    }
}

/// Reasons with those that count against the outcome first: what blocks is read before what
/// allows.
fn reasons(list: &[common::Reason]) -> Markup {
    let mut list: Vec<&common::Reason> = list.iter().collect();
    list.sort_by_key(|r| r.effect != common::ReasonEffect::Opposes as i32);
    html! {
        @if !list.is_empty() {
            ul class="reasons" {
                @for reason in &list {
                    li class={ "reason " (effect_class(reason.effect)) } {
                        (effect_word(reason.effect)) (reason.message)
                        @if !reason.rule_ref.is_empty() { span class="meta" { " (" (reason.rule_ref) ")" } }
                    }
                }
            }
        }
    }
}

fn effect_class(effect: i32) -> &'static str {
    match common::ReasonEffect::try_from(effect) {
        Ok(common::ReasonEffect::Opposes) => "opposes",
        Ok(common::ReasonEffect::Supports) => "supports",
        _ => "neutral",
    }
}

/// Not colour alone: each reason says which way it counts.
fn effect_word(effect: i32) -> &'static str {
    match common::ReasonEffect::try_from(effect) {
        Ok(common::ReasonEffect::Opposes) => "Against: ",
        Ok(common::ReasonEffect::Supports) => "For: ",
        _ => "",
    }
}

fn heading(
    overview: &desk::GetCustomerOverviewResponse,
    customer: Option<&profiles::Customer>,
) -> Markup {
    let state = overview.customer.as_ref().and_then(|s| s.state.as_ref());
    html! {
        @match customer {
            Some(c) => {
                h1 data-testid="customer-name" { (name(&display_name(&c.legal_name, &c.preferred_name), &c.locale)) }
                @if !overview.merged_from.is_empty() {
                    p class="banner banner-info" role="note" { "The id you opened (" (overview.merged_from) ") was merged into this customer." }
                }
                dl class="facts" {
                    dt { "Legal name" } dd { (name(&c.legal_name, &c.locale)) }
                    dt { "Status" } dd { (enum_words!(profiles::CustomerStatus, c.status, "CUSTOMER_STATUS_")) }
                    dt { "Language and region" } dd { (c.locale) }
                    dt { "Time zone" } dd { (c.time_zone) }
                    dt { "Customer since" } dd { (Audience { locale: c.locale.clone(), time_zone: c.time_zone.clone() }.date(c.customer_since.as_ref())) }
                    @if let Some(phone) = c.phones.iter().find(|p| p.primary).or(c.phones.first()) {
                        dt { "Phone" } dd { bdi { (phone.e164) } }
                    }
                    @if let Some(email) = c.emails.iter().find(|e| e.primary).or(c.emails.first()) {
                        dt { "Email" } dd { bdi { (email.address) } }
                    }
                }
            }
            None => {
                h1 { "Customer " (short_id(&overview.customer_id)) }
                @if let Some(markup) = not_ok("Customer details", state) { (markup) }
            }
        }
    }
}

fn contact(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.contact.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="contact-heading" data-testid="may-we-call" {
            h2 id="contact-heading" { "May we call now?" }
            @if let Some(markup) = not_ok("“May we call now?”", state) { (markup) }
            @else if let Some(decision) = section.and_then(|s| s.decision.as_ref()) {
                @if decision.allowed {
                    p class="answer answer-yes" data-testid="call-answer" { strong { "Yes" } " — a call is allowed now." }
                } @else {
                    p class="answer answer-no" data-testid="call-answer" { strong { "No" } " — do not call now." }
                }
                @if decision.route_to_specialist {
                    p class="banner banner-protect" { strong { "Route to a specialist: " } "a specialist must make this contact." }
                }
                @if !decision.allowed {
                    p { "Next allowed: "
                        @if decision.next_allowed_at.is_some() { (audience.time(decision.next_allowed_at.as_ref())) }
                        @else { "none foreseeable" }
                    }
                }
                (reasons(&decision.reasons))
                p class="meta" { "Rules: " (decision.rule_set) " " (decision.rule_set_version) " · account " (short_id(section.map_or("", |s| s.account_id.as_str()))) }
            }
        }
    }
}

fn next_best_action(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.next_best_action.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="nba-heading" data-testid="next-best-action" {
            h2 id="nba-heading" { "Next best action" }
            @if let Some(markup) = not_ok("The next best action", state) { (markup) }
            @else if let Some(action) = section.and_then(|s| s.action.as_ref()) {
                p class="answer" {
                    strong { (enum_words!(plans::NextActionKind, action.action, "NEXT_ACTION_KIND_")) }
                    " by " (channel_words(action.channel))
                    @if action.earliest_at.is_some() { ", from " (audience.time(action.earliest_at.as_ref())) }
                    @if !action.template_id.is_empty() { " (template " (action.template_id) ")" }
                }
                (reasons(&action.reasons))
            }
        }
    }
}

fn protections(
    overview: &desk::GetCustomerOverviewResponse,
    customer: Option<&profiles::Customer>,
    audience: &Audience,
) -> Markup {
    let section = overview.protections.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    let list = section.map_or(&[][..], |s| s.protections.as_slice());
    let vulnerability = customer.and_then(|c| c.vulnerability.as_ref());
    let protected = !list.is_empty() || vulnerability.is_some();
    html! {
        section aria-labelledby="protections-heading" data-testid="protections"
            class=[protected.then_some("banner banner-protect")] role=[protected.then_some("alert")] {
            h2 id="protections-heading" {
                @if protected { "Protected customer: " }
                "Protections and vulnerability"
            }
            @if let Some(markup) = not_ok("Protections", state) { (markup) }
            @else if list.is_empty() {
                p { "No protection is in force." }
            } @else {
                ul {
                    @for p in list {
                        li {
                            strong { (enum_words!(plans::ProtectionKind, p.kind, "PROTECTION_KIND_")) }
                            " (" (enum_words!(plans::ProtectionStatus, p.status, "PROTECTION_STATUS_").to_lowercase()) ")"
                            @if p.ends_at.is_some() { ", until " (audience.time(p.ends_at.as_ref())) } @else { ", open-ended" }
                            @if !p.effects.is_empty() {
                                ". Effects: "
                                @for (i, effect) in p.effects.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (enum_words!(plans::ProtectionEffect, *effect, "PROTECTION_EFFECT_").to_lowercase())
                                }
                            }
                            "."
                            @if !p.reference.is_empty() { span class="meta" { " Reference " (p.reference) } }
                        }
                    }
                }
            }
            @if let Some(v) = vulnerability {
                div data-testid="vulnerability" {
                    h3 { "Vulnerability: route to a specialist where needed" }
                    @if !v.needs.is_empty() {
                        p { "Needs: " (v.needs.join(", ")) }
                    }
                    @if !v.factors.is_empty() {
                        ul {
                            @for factor in &v.factors {
                                li {
                                    (enum_words!(profiles::VulnerabilityDriver, factor.driver, "VULNERABILITY_DRIVER_"))
                                    @if !factor.detail.is_empty() { ": " span dir="auto" { (factor.detail) } }
                                    @if factor.temporary { " (temporary)" }
                                }
                            }
                        }
                    }
                    @if !v.notes.is_empty() { p dir="auto" { (v.notes) } }
                    @if v.review_date.is_some() { p { "Review on " (audience.date(v.review_date.as_ref())) } }
                }
            } @else if customer.is_some() {
                p class="meta" { "Vulnerability is shown only to roles allowed to read it." }
            }
        }
    }
}

fn accounts(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.accounts.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    let customer_id = &overview.customer_id;
    html! {
        section aria-labelledby="accounts-heading" data-testid="accounts" {
            h2 id="accounts-heading" { "Accounts" }
            @if let Some(markup) = not_ok("Accounts", state) { (markup) }
            @else if let Some(section) = section {
                @if section.accounts.is_empty() { p { "The customer has no account." } }
                @for a in &section.accounts {
                    article class="card" data-testid="account" {
                        h3 { (enum_words!(plans::AccountKind, a.kind, "ACCOUNT_KIND_")) " " (a.external_account_id) }
                        dl class="facts" {
                            dt { "Balance" } dd { (audience.money(a.balance.as_ref())) }
                            dt { "Arrears" } dd { (audience.money(a.arrears_amount.as_ref())) " (" (a.days_past_due) " days past due, " (enum_words!(plans::DelinquencyStage, a.stage, "DELINQUENCY_STAGE_").to_lowercase()) ")" }
                            dt { "Contractual payment" } dd { (audience.money(a.contractual_payment.as_ref())) }
                            dt { "Next due" } dd { (audience.date(a.next_due_date.as_ref())) }
                            @let held = frozen(a);
                            @if !held.is_empty() {
                                dt { "Held" } dd { (held.join("; ")) }
                            }
                        }
                        ul class="actions" {
                            li { a href={ "/customers/" (customer_id) "/accounts/" (a.account_id) "/options" } { "Payment-plan options" } }
                            li { a href={ "/customers/" (customer_id) "/accounts/" (a.account_id) "/promise" } { "Record a promise to pay" } }
                            @if a.open_hardship_case_id.is_empty() {
                                li { a href={ "/customers/" (customer_id) "/hardship/new?account_id=" (a.account_id) } { "Open a hardship case" } }
                            } @else {
                                li { a href={ "/customers/" (customer_id) "/cases/" (a.open_hardship_case_id) } { "Hardship case" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn hardship(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.hardship.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="hardship-heading" data-testid="hardship-cases" {
            h2 id="hardship-heading" { "Open hardship cases" }
            @if let Some(markup) = not_ok("Hardship cases", state) { (markup) }
            @else if let Some(section) = section {
                @if section.open_cases.is_empty() { p { "No hardship case is open." } }
                @for detail in &section.open_cases {
                    @if let Some(case) = detail.hardship_case.as_ref() {
                        article class="card" {
                            h3 { a href={ "/customers/" (case.customer_id) "/cases/" (case.case_id) } { "Case: " (enum_words!(plans::HardshipReason, case.reason, "HARDSHIP_REASON_")) } }
                            dl class="facts" {
                                dt { "Opened" } dd { (audience.time(case.opened_at.as_ref())) }
                                @match detail.affordability.as_ref() {
                                    Some(a) => {
                                        dt { "Disposable income" } dd { (audience.money(a.disposable_income.as_ref())) }
                                        dt { "Headroom" } dd { (audience.money(detail.headroom.as_ref())) }
                                    }
                                    None => { dt { "Affordability" } dd { "Income and expenditure not taken yet." } }
                                }
                            }
                            @if let Some(a) = detail.affordability.as_ref() { (flagged_costs(a, audience)) }
                        }
                    }
                }
            }
        }
    }
}

/// Flexible costs above their trigger figures: a conversation to have, never cut or changed.
pub(crate) fn flagged_costs(affordability: &plans::Affordability, audience: &Audience) -> Markup {
    html! {
        @if !affordability.flagged_costs.is_empty() {
            div class="flagged" data-testid="flagged-costs" {
                p { strong { "A conversation to have: " } "these flexible costs are above the trigger figures for the household. They are not cut or changed; talk them through with the customer." }
                ul {
                    @for cost in &affordability.flagged_costs {
                        li {
                            (enum_words!(plans::FlexibleCostCategory, cost.category, "FLEXIBLE_COST_CATEGORY_")) ": "
                            (audience.money(cost.declared.as_ref())) " declared, trigger figure "
                            (audience.money(cost.trigger_figure.as_ref())) " (above by "
                            (audience.money(cost.excess.as_ref())) ")"
                        }
                    }
                }
            }
        }
    }
}

fn plans_section(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.plans.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="plans-heading" data-testid="plans" {
            h2 id="plans-heading" { "Plans" }
            @if let Some(markup) = not_ok("Plans", state) { (markup) }
            @else if let Some(section) = section {
                @if section.plans.is_empty() { p { "The customer has no plan." } }
                @for summary in &section.plans {
                    @if let Some(plan) = summary.plan.as_ref() {
                        article class="card" {
                            h3 { (enum_words!(plans::PlanOptionKind, plan.kind, "PLAN_OPTION_KIND_")) " — " (enum_words!(plans::PlanStatus, plan.status, "PLAN_STATUS_").to_lowercase()) }
                            dl class="facts" {
                                dt { "Monthly" } dd { (audience.money(plan.monthly_amount.as_ref())) }
                                dt { "Paid to date" } dd { (audience.money(plan.paid_to_date.as_ref())) }
                                dt { "Remaining" } dd { (audience.money(plan.remaining.as_ref())) }
                                dt { "Next installment" } dd {
                                    @match summary.next_installment.as_ref() {
                                        Some(i) => { (audience.money(i.amount.as_ref())) " on " (audience.date(i.due_date.as_ref())) }
                                        None => { "none left" }
                                    }
                                }
                                dt { "Missed installments" } dd { (summary.missed_installments) }
                            }
                            @if !plan.summary.is_empty() { p { (plan.summary) } }
                        }
                    }
                }
            }
        }
    }
}

fn promises(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.promises.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="promises-heading" data-testid="promises" {
            h2 id="promises-heading" { "Promises to pay" }
            @if let Some(markup) = not_ok("Promises to pay", state) { (markup) }
            @else if let Some(section) = section {
                @if section.promises.is_empty() { p { "No promise to pay." } }
                ul {
                    @for p in &section.promises {
                        li {
                            (audience.money(p.amount.as_ref())) " by " (audience.date(p.promised_date.as_ref()))
                            " — " (enum_words!(plans::PromiseToPayStatus, p.status, "PROMISE_TO_PAY_STATUS_").to_lowercase())
                        }
                    }
                }
            }
        }
    }
}

fn loyalty_section(overview: &desk::GetCustomerOverviewResponse) -> Markup {
    let section = overview.loyalty.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="loyalty-heading" data-testid="loyalty" {
            h2 id="loyalty-heading" { "Loyalty" }
            @if let Some(markup) = not_ok("Loyalty", state) { (markup) }
            @else if let Some(score) = section.and_then(|s| s.score.as_ref()) {
                dl class="facts" {
                    dt { "Score" } dd { (format!("{:.0}", score.loyalty)) " of 100" }
                    dt { "Segment" } dd { (enum_words!(loyalty::LoyaltySegment, score.segment, "LOYALTY_SEGMENT_")) }
                    dt { "Satisfaction · involvement · affinity" } dd { (format!("{:.0} · {:.0} · {:.0}", score.satisfaction, score.involvement, score.affinity)) }
                    dt { "Flags" } dd {
                        @if score.flags.is_empty() { "none" }
                        @for (i, flag) in score.flags.iter().enumerate() {
                            @if i > 0 { ", " }
                            (enum_words!(loyalty::LoyaltyFlag, *flag, "LOYALTY_FLAG_"))
                        }
                    }
                }
                h3 { "Top reasons" }
                @let top = strongest(&score.explanation);
                ul {
                    @for c in top.iter().take(3) {
                        li { (c.description) " (" (format!("{:+.1}", c.points)) " " (enum_words!(loyalty::ScoreComponent, c.component, "SCORE_COMPONENT_").to_lowercase()) ")" }
                    }
                }
                (reasons(&score.reasons))
            } @else {
                p { "No loyalty score yet." }
            }
        }
    }
}

fn follow_ups(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.follow_ups.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="follow-ups-heading" data-testid="follow-ups" {
            h2 id="follow-ups-heading" { "Follow-ups" }
            @if let Some(markup) = not_ok("Follow-ups", state) { (markup) }
            @else if let Some(section) = section {
                @if section.follow_ups.is_empty() { p { "No follow-up is open." } }
                ul {
                    @for f in &section.follow_ups {
                        li {
                            (enum_words!(loyalty::FollowUpStatus, f.status, "FOLLOW_UP_STATUS_")) ": detractor answer (NPS " (f.nps) "), due "
                            (audience.time(f.due_at.as_ref()))
                        }
                    }
                }
                @if !section.follow_ups.is_empty() { p { a href="/follow-ups" { "Close a follow-up" } } }
            }
        }
    }
}

fn commitments(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.commitments.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="commitments-heading" data-testid="commitments" {
            h2 id="commitments-heading" { "Commitments" }
            @if let Some(markup) = not_ok("Commitments", state) { (markup) }
            @else if let Some(section) = section {
                @if section.commitments.is_empty() { p { "No open commitment to the customer." } }
                ul {
                    @for c in &section.commitments {
                        li {
                            span dir="auto" { (c.description) } " — due " (audience.date(c.due_date.as_ref()))
                            " (" (enum_words!(profiles::CommitmentStatus, c.status, "COMMITMENT_STATUS_").to_lowercase()) ")"
                        }
                    }
                }
            }
        }
    }
}

fn referrals_section(overview: &desk::GetCustomerOverviewResponse, audience: &Audience) -> Markup {
    let section = overview.referrals.as_ref();
    let state = section.and_then(|s| s.state.as_ref());
    html! {
        section aria-labelledby="referrals-heading" data-testid="referrals" {
            h2 id="referrals-heading" { "Referrals and trust" }
            @if let Some(markup) = not_ok("Referrals and trust", state) { (markup) }
            @else if let Some(section) = section {
                @if section.referrals_made.is_empty() { p { "No referral made." } }
                ul {
                    @for r in &section.referrals_made {
                        li { "Referral " (short_id(&r.referral_id)) ": " (enum_words!(referrals::ReferralStatus, r.status, "REFERRAL_STATUS_").to_lowercase()) ", made " (audience.time(r.created_at.as_ref())) }
                    }
                }
                @if let Some(trust) = section.trust.as_ref() {
                    p { "Trust: " strong { (format!("{:.2}", trust.score)) } " (0 to 1)" }
                    @if let Some(path) = trust.paths.first() {
                        p { "Strongest path (" (format!("{:.0}", path.contribution * 100.0)) "% of the score): "
                            @for (i, edge) in path.edges.iter().enumerate() {
                                @if i == 0 { (short_id(&edge.from_id)) }
                                " → " (short_id(&edge.to_id)) " (" (enum_words!(referrals::TrustEdgeKind, edge.kind, "TRUST_EDGE_KIND_").to_lowercase()) ")"
                            }
                        }
                    }
                    (reasons(&trust.reasons))
                }
            }
        }
    }
}

/// The contributions that moved the score most, strongest first.
fn strongest(explanation: &[loyalty::ScoreContribution]) -> Vec<&loyalty::ScoreContribution> {
    let mut top: Vec<&loyalty::ScoreContribution> = explanation.iter().collect();
    top.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
    top
}

/// What protections and plans hold on an account, in words.
fn frozen(account: &plans::Account) -> Vec<&'static str> {
    let mut held = Vec::new();
    if account.interest_frozen {
        held.push("interest frozen");
    }
    if account.fees_frozen {
        held.push("fees frozen");
    }
    if account.payment_demands_blocked {
        held.push("no payment demands");
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(
        status: desk::SectionStatus,
        service: &str,
        detail: &str,
    ) -> Option<desk::SectionState> {
        Some(desk::SectionState {
            status: status as i32,
            service: service.to_owned(),
            detail: detail.to_owned(),
        })
    }

    fn overview() -> desk::GetCustomerOverviewResponse {
        desk::GetCustomerOverviewResponse {
            customer_id: "c-1".into(),
            customer: Some(desk::CustomerSection {
                state: state(desk::SectionStatus::Ok, "profiles", ""),
                customer: Some(profiles::Customer {
                    customer_id: "c-1".into(),
                    legal_name: "<script>alert(1)</script> محمد".into(),
                    locale: "ar-KW".into(),
                    time_zone: "Asia/Kuwait".into(),
                    vulnerability: Some(profiles::Vulnerability {
                        factors: vec![profiles::VulnerabilityFactor {
                            driver: profiles::VulnerabilityDriver::Health as i32,
                            detail: "hospital stay".into(),
                            temporary: true,
                        }],
                        needs: vec!["specialist_team".into()],
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }),
            loyalty: Some(desk::LoyaltySection {
                state: state(
                    desk::SectionStatus::Unavailable,
                    "loyalty",
                    "loyalty did not answer within 150 ms",
                ),
                score: None,
            }),
            protections: Some(desk::ProtectionsSection {
                state: state(desk::SectionStatus::Ok, "plans", ""),
                protections: vec![plans::Protection {
                    kind: plans::ProtectionKind::BreathingSpace as i32,
                    status: plans::ProtectionStatus::Active as i32,
                    ..Default::default()
                }],
            }),
            accounts: Some(desk::AccountsSection {
                state: state(desk::SectionStatus::Ok, "plans", ""),
                accounts: vec![plans::Account {
                    account_id: "a-1".into(),
                    balance: Some(common::Money {
                        currency_code: "KWD".into(),
                        minor_units: 1_234_567,
                    }),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_name_with_markup_is_escaped_and_keeps_its_language_and_direction() {
        let html = body(&overview(), None).into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; محمد"));
        assert!(html.contains(r#"<bdi lang="ar-KW" dir="auto">"#));
    }

    #[test]
    fn a_section_that_did_not_answer_says_so_and_never_reads_as_none() {
        let html = body(&overview(), None).into_string();
        assert!(
            html.contains(
                "Loyalty is unavailable right now (loyalty did not answer within 150 ms)."
            )
        );
        assert!(!html.contains("No loyalty score yet"));
        // Sections missing from the answer altogether are not "none" either.
        assert!(html.contains("Promises to pay is unavailable right now (no answer)."));
        assert!(!html.contains("No promise to pay."));
    }

    #[test]
    fn protections_are_an_alert_with_words_and_money_is_in_the_customers_locale() {
        let html = body(&overview(), None).into_string();
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("Protected customer: Protections and vulnerability"));
        assert!(html.contains("Breathing space"));
        assert!(html.contains("Health: <span dir=\"auto\">hospital stay</span> (temporary)"));
        assert!(html.contains("Needs: specialist_team"));
        assert!(html.contains("١٬٢٣٤٫٥٦٧ KWD"));
        let call = html.find("May we call now?").expect("the contact section");
        let action = html.find("Next best action").expect("the next best action");
        let protections = html
            .find("Protections and vulnerability")
            .expect("protections");
        let accounts = html.find(">Accounts<").expect("accounts");
        assert!(call < action && action < protections && protections < accounts);
    }
}
