//! Overview (GET /customers/{id}): every section of DeskService/GetCustomerOverview. What the
//! agent must know before speaking comes first — may we call now, the next best action — then
//! protections and vulnerability as a banner that cannot be missed, then the rest. A section
//! that did not come back OK says so in words, never as "none".

use axum::extract::{Path, State};
use axum::response::Response;
use http::{StatusCode, Uri};
use maud::{Markup, html};
use rapport_proto::common::v1 as common;
use rapport_proto::desk::v1 as desk;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::plans::v1 as plans;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::referrals::v1 as referrals;
use tonic::Code;

use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::format::{Audience, channel_words, display_name, enum_words, name, short_id};
use crate::layout::{failure_banner, notice, page as shell, respond, section_unavailable};
use crate::session::Agent;

pub(crate) async fn page(
    State(console): State<Console>,
    Path(customer_id): Path<String>,
    agent: Agent,
    uri: Uri,
) -> Response {
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
        Err(status) if matches!(status.code(), Code::InvalidArgument | Code::NotFound) => {
            // Not a form: the id in the address is wrong, said plainly.
            let (http_status, sentence) = if status.code() == Code::NotFound {
                (StatusCode::NOT_FOUND, "No customer has this id")
            } else {
                (StatusCode::BAD_REQUEST, "This is not a customer id")
            };
            let body = html! {
                h1 { "Customer not found" }
                p data-testid="not-a-customer" { (sentence) ": " code { (customer_id) } "." }
                p { a href="/" { "Find a customer" } " by name, email, phone or reference." }
            };
            return respond(http_status, shell(&chrome, "Customer not found", body));
        }
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
    reason_list(&list)
}

fn reason_list(list: &[&common::Reason]) -> Markup {
    html! {
        @if !list.is_empty() {
            ul class="reasons" {
                @for reason in list {
                    li class={ "reason " (effect_class(reason.effect)) } {
                        (effect_word(reason.effect)) (reason.message)
                        @if !reason.rule_ref.is_empty() { span class="meta" { " (" (reason.rule_ref) ")" } }
                    }
                }
            }
        }
    }
}

/// Every reason, folded: the answer above it is what the agent reads first.
fn all_reasons(list: &[common::Reason], summary: &str) -> Markup {
    html! {
        @if !list.is_empty() {
            details class="all-reasons" {
                summary { (summary) }
                (reasons(list))
            }
        }
    }
}

/// "All 13 rules checked", or the singular sentence for one.
fn counted(n: usize, many: &str, one: &str) -> String {
    if n == 1 {
        one.to_owned()
    } else {
        many.replace("{}", &n.to_string())
    }
}

fn blocking(list: &[common::Reason]) -> Vec<&common::Reason> {
    list.iter()
        .filter(|r| r.effect == common::ReasonEffect::Opposes as i32)
        .collect()
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
                (protection_banner(overview, Some(c)))
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
                (protection_banner(overview, None))
                @if let Some(markup) = not_ok("Customer details", state) { (markup) }
                @let fallback = Audience::default();
                p class="meta" data-testid="audience-fallback" {
                    "Without the customer's details, money and times below are written for "
                    (fallback.locale) " in " (fallback.time_zone)
                    ", not in the customer's own language and time zone."
                }
            }
        }
    }
}

/// One line under the name when a protection is in force or a specialist must make the contact:
/// seen before anything else, in words (the full section is further down).
fn protection_banner(
    overview: &desk::GetCustomerOverviewResponse,
    customer: Option<&profiles::Customer>,
) -> Markup {
    let in_force: Vec<String> = overview
        .protections
        .as_ref()
        .filter(|s| ok(s.state.as_ref()))
        .map(|s| {
            s.protections
                .iter()
                .filter(|p| {
                    p.status == plans::ProtectionStatus::Active as i32
                        || p.status == plans::ProtectionStatus::Ending as i32
                })
                .map(|p| enum_words!(plans::ProtectionKind, p.kind, "PROTECTION_KIND_"))
                .collect()
        })
        .unwrap_or_default();
    let specialist = overview
        .contact
        .as_ref()
        .and_then(|s| s.decision.as_ref())
        .is_some_and(|d| d.route_to_specialist);
    let vulnerable = customer.is_some_and(|c| c.vulnerability.is_some());
    if in_force.is_empty() && !specialist && !vulnerable {
        return html! {};
    }
    html! {
        div class="banner banner-protect protect-line" role="alert" data-testid="protection-banner" {
            p {
                strong { "Protected customer: " }
                @if !in_force.is_empty() { (in_force.join(", ")) " in force. " }
                @if specialist { "A specialist must make this contact. " }
                @else if vulnerable { "Vulnerability recorded: route to a specialist where needed. " }
                a href="#protections-heading" { "See protections and vulnerability" }
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
                @let blocks = blocking(&decision.reasons);
                @if decision.allowed {
                    p data-testid="call-summary" {
                        (decision.reasons.len()) " rules checked; "
                        @if blocks.is_empty() { "none blocks a call." }
                        @else { (blocks.len()) " against, but none blocks a call now." }
                    }
                } @else if blocks.is_empty() {
                    p data-testid="call-summary" { (decision.reasons.len()) " rules checked; none is marked as the one that blocks." }
                } @else {
                    (reason_list(&blocks))
                }
                (all_reasons(&decision.reasons, &counted(decision.reasons.len(), "All {} rules checked", "The one rule checked")))
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
                (all_reasons(&action.reasons, &counted(action.reasons.len(), "Why: {} reasons", "Why: one reason")))
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
                                dt { "Held" } dd { (held) }
                            }
                        }
                        ul class="actions" {
                            li {
                                @let case_id = open_case_for(overview, a);
                                @if case_id.is_empty() {
                                    a href={ "/customers/" (customer_id) "/accounts/" (a.account_id) "/options" } { "Payment-plan options" }
                                } @else {
                                    a href={ "/customers/" (customer_id) "/accounts/" (a.account_id) "/options?case_id=" (case_id) } { "Payment-plan options" }
                                }
                                @if !a.active_plan_id.is_empty() {
                                    span class="meta" data-testid="active-plan-note" { " — " (active_plan_words(overview, a, audience)) }
                                }
                            }
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

/// The open hardship case covering the account, so its options are built on the customer's own
/// income and expenditure.
fn open_case_for<'a>(
    overview: &'a desk::GetCustomerOverviewResponse,
    account: &'a plans::Account,
) -> &'a str {
    overview
        .hardship
        .as_ref()
        .filter(|s| ok(s.state.as_ref()))
        .and_then(|s| {
            s.open_cases
                .iter()
                .filter_map(|d| d.hardship_case.as_ref())
                .find(|c| c.account_ids.contains(&account.account_id))
        })
        .map_or(account.open_hardship_case_id.as_str(), |c| {
            c.case_id.as_str()
        })
}

/// "Active plan: Reduced payment, 120,00 RON a month — new options would replace it."
fn active_plan_words(
    overview: &desk::GetCustomerOverviewResponse,
    account: &plans::Account,
    audience: &Audience,
) -> String {
    let plan = overview
        .plans
        .as_ref()
        .filter(|s| ok(s.state.as_ref()))
        .and_then(|s| {
            s.plans
                .iter()
                .filter_map(|p| p.plan.as_ref())
                .find(|p| p.plan_id == account.active_plan_id)
        });
    match plan {
        Some(plan) => format!(
            "Active plan: {}, {} a month — new options would replace it.",
            enum_words!(plans::PlanOptionKind, plan.kind, "PLAN_OPTION_KIND_"),
            audience.money(plan.monthly_amount.as_ref())
        ),
        None => "An active plan is in place — new options would replace it.".to_owned(),
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

/// What protections and plans hold on an account, in words: "Frozen: interest, fees. No payment
/// demands."
fn frozen(account: &plans::Account) -> String {
    let mut what = Vec::new();
    if account.interest_frozen {
        what.push("interest");
    }
    if account.fees_frozen {
        what.push("fees");
    }
    let mut held = Vec::new();
    if !what.is_empty() {
        held.push(format!("Frozen: {}.", what.join(", ")));
    }
    if account.payment_demands_blocked {
        held.push("No payment demands.".to_owned());
    }
    held.join(" ")
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
    fn the_protection_line_comes_under_the_name_and_every_rule_is_folded() {
        let mut overview = overview();
        overview.contact = Some(desk::ContactSection {
            state: state(desk::SectionStatus::Ok, "plans", ""),
            decision: Some(plans::CheckContactResponse {
                allowed: false,
                reasons: vec![
                    common::Reason {
                        message: "a breathing space is in force".into(),
                        effect: common::ReasonEffect::Opposes as i32,
                        ..Default::default()
                    },
                    common::Reason {
                        message: "inside calling hours".into(),
                        effect: common::ReasonEffect::Supports as i32,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        });
        let html = body(&overview, None).into_string();
        let name = html
            .find("data-testid=\"customer-name\"")
            .expect("the name");
        let line = html
            .find("data-testid=\"protection-banner\"")
            .expect("the protection line");
        let call = html.find("May we call now?").expect("the contact section");
        assert!(name < line && line < call, "{html}");
        assert!(html.contains("Breathing space in force."), "{html}");
        // What blocks is shown; every rule is inside the fold.
        let fold = html
            .find("<summary>All 2 rules checked</summary>")
            .expect("the fold");
        let blocking = html
            .find("Against: a breathing space is in force")
            .expect("what blocks");
        assert!(blocking < fold);
        let supports = html.find("For: inside calling hours").expect("every rule");
        assert!(fold < supports);
    }

    #[test]
    fn the_options_link_carries_the_open_case_and_names_the_active_plan() {
        let mut overview = overview();
        overview.accounts.as_mut().expect("accounts").accounts[0].active_plan_id = "p-1".into();
        overview.hardship = Some(desk::HardshipSection {
            state: state(desk::SectionStatus::Ok, "plans", ""),
            open_cases: vec![plans::HardshipCaseDetail {
                hardship_case: Some(plans::HardshipCase {
                    case_id: "case-9".into(),
                    account_ids: vec!["a-1".into()],
                    ..Default::default()
                }),
                ..Default::default()
            }],
        });
        let html = body(&overview, None).into_string();
        assert!(
            html.contains("/accounts/a-1/options?case_id=case-9"),
            "{html}"
        );
        assert!(html.contains("new options would replace it"), "{html}");
    }

    #[test]
    fn without_the_customer_the_overview_says_whose_formats_it_uses() {
        let mut overview = overview();
        overview.customer = Some(desk::CustomerSection {
            state: state(
                desk::SectionStatus::Unavailable,
                "profiles",
                "profiles did not answer",
            ),
            customer: None,
        });
        let html = body(&overview, None).into_string();
        assert!(html.contains("written for en-GB in UTC"), "{html}");
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
        assert!(html.contains("Promises to pay are unavailable right now (no answer)."));
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
