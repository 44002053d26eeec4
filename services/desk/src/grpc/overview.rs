//! GetCustomerOverview: the customer first (to learn the survivor of a merge), then everything
//! else in parallel within what remains of the budget; may-we-call-now and the next best action
//! follow the accounts, since they ask about the account most past due.

use rapport_errors::Validation;
use rapport_proto::common::v1 as common;
use rapport_proto::desk::v1 as pb;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::plans::v1 as plans;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::referrals::v1 as referrals;
use rapport_security::Caller;
use rapport_wire as wire;
use tonic::Code;

use super::DeskApi;
use super::caller::{actor, customer_view};
use super::fan_out::{AsCaller, Budget, Failure, Owner, ask, rpc, send};
use super::sections::{self, split};
use crate::error::DeskError;

/// The customer lookup may take half the budget: a slow profiles leaves the other half to the
/// sections it does not own (which are asked only once the survivor of a merge is known).
const CUSTOMER_LOOKUP_PARTS: u32 = 2;

/// Each list's one page: the contract's largest. An overview is a first look, not an export.
fn first_page() -> Option<common::PageRequest> {
    Some(common::PageRequest {
        page_size: 100,
        page_token: String::new(),
    })
}

/// Who the overview is of, as profiles answered.
struct Subject {
    customer_id: String,
    merged_from: String,
    section: pb::CustomerSection,
}

impl DeskApi {
    #[tracing::instrument(skip_all, fields(customer_id = wire::traced_id(&r.customer_id)))]
    pub(super) async fn overview(
        &self,
        r: pb::GetCustomerOverviewRequest,
        caller: Option<&Caller>,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> Result<pb::GetCustomerOverviewResponse, DeskError> {
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let channel = wire::optional_enum(
            "channel",
            r.channel,
            |c| common::Channel::try_from(c).ok(),
            &mut v,
        );
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(DeskError::Invalid(v))?;
        let channel = match channel {
            None | Some(common::Channel::Unspecified) => common::Channel::Phone,
            Some(channel) => channel,
        };

        let subject = self
            .subject(&customer_id.to_string(), caller, as_caller, budget)
            .await?;
        let id = subject.customer_id.as_str();
        let (
            (accounts, contact, next_best_action),
            protections,
            hardship,
            plans,
            promises,
            loyalty,
            follow_ups,
            commitments,
            referrals,
        ) = tokio::join!(
            self.accounts_and_contact(id, channel, caller, as_caller, budget),
            self.protections(id, as_caller, budget),
            self.hardship(id, as_caller, budget),
            self.plans(id, as_caller, budget),
            self.promises(id, as_caller, budget),
            self.loyalty(id, as_caller, budget),
            self.follow_ups(id, as_caller, budget),
            self.commitments(id, as_caller, budget),
            self.referrals(id, as_caller, budget),
        );
        Ok(pb::GetCustomerOverviewResponse {
            customer_id: subject.customer_id,
            merged_from: subject.merged_from,
            customer: Some(subject.section),
            contact: Some(contact),
            next_best_action: Some(next_best_action),
            protections: Some(protections),
            accounts: Some(accounts),
            hardship: Some(hardship),
            plans: Some(plans),
            promises: Some(promises),
            loyalty: Some(loyalty),
            follow_ups: Some(follow_ups),
            commitments: Some(commitments),
            referrals: Some(referrals),
            as_of: Some(wire::timestamp_to_pb(self.clock.now())),
        })
    }

    /// The customer, in the view the caller may see. NOT_FOUND ends the overview; a merged-away
    /// id comes back as its survivor; a profiles that cannot answer leaves the section
    /// unavailable and the others asked with the id as given.
    async fn subject(
        &self,
        requested: &str,
        caller: Option<&Caller>,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> Result<Subject, DeskError> {
        let message = profiles::GetCustomerRequest {
            customer_id: requested.to_owned(),
            view: customer_view(caller) as i32,
        };
        let lookup = budget.first_part(CUSTOMER_LOOKUP_PARTS);
        let answer = send(
            Owner::Profiles,
            lookup,
            as_caller,
            message,
            rpc!(self.upstreams.profiles, get_customer),
        )
        .await;
        let failed = |state| Subject {
            customer_id: requested.to_owned(),
            merged_from: String::new(),
            section: pb::CustomerSection {
                state: Some(state),
                customer: None,
            },
        };
        match answer {
            Ok(profiles::GetCustomerResponse {
                customer: Some(customer),
            }) => {
                let survivor = if customer.customer_id.is_empty() {
                    requested.to_owned()
                } else {
                    customer.customer_id.clone()
                };
                let merged_from = if survivor == requested {
                    String::new()
                } else {
                    requested.to_owned()
                };
                Ok(Subject {
                    customer_id: survivor,
                    merged_from,
                    section: pb::CustomerSection {
                        state: Some(sections::ok(Owner::Profiles)),
                        customer: Some(customer),
                    },
                })
            }
            Ok(profiles::GetCustomerResponse { customer: None }) => Ok(failed(sections::refused(
                Owner::Profiles,
                lookup,
                &tonic::Status::unavailable("answered without a customer"),
            ))),
            Err(Failure::Answered(status)) if status.code() == Code::NotFound => {
                Err(DeskError::NotFound {
                    entity: "customer",
                    id: requested.to_owned(),
                })
            }
            Err(Failure::Answered(status)) => {
                Ok(failed(sections::refused(Owner::Profiles, lookup, &status)))
            }
            Err(Failure::Late) => Ok(failed(sections::late(Owner::Profiles, lookup))),
        }
    }

    /// The accounts, most past due first; then, about the first of them, may we contact the
    /// customer now and the next best action, within the same budget.
    async fn accounts_and_contact(
        &self,
        customer_id: &str,
        channel: common::Channel,
        caller: Option<&Caller>,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> (
        pb::AccountsSection,
        pb::ContactSection,
        pb::NextBestActionSection,
    ) {
        let listed = ask(
            Owner::Plans,
            budget,
            as_caller,
            plans::ListAccountsRequest {
                customer_id: customer_id.to_owned(),
                in_arrears_only: false,
                stages: Vec::new(),
                page: first_page(),
            },
            rpc!(self.upstreams.accounts, list_accounts),
        )
        .await
        .map(|mut answer| {
            sections::most_past_due_first(&mut answer.accounts);
            answer.accounts
        });
        let (state, accounts) = split(Owner::Plans, listed);
        let accounts_section = pb::AccountsSection { state, accounts };
        let first = accounts_section
            .accounts
            .first()
            .map(|account| account.account_id.clone());
        let (contact, next_best_action) = match (&accounts_section.state, first) {
            (Some(state), _) if state.status != pb::SectionStatus::Ok as i32 => (
                pb::ContactSection {
                    state: Some(state.clone()),
                    ..Default::default()
                },
                pb::NextBestActionSection {
                    state: Some(state.clone()),
                    ..Default::default()
                },
            ),
            (_, None) => {
                let none = || {
                    Some(sections::not_applicable(
                        Owner::Plans,
                        "no account to ask about",
                    ))
                };
                (
                    pb::ContactSection {
                        state: none(),
                        ..Default::default()
                    },
                    pb::NextBestActionSection {
                        state: none(),
                        ..Default::default()
                    },
                )
            }
            (_, Some(account_id)) => {
                let (decision, action) = tokio::join!(
                    ask(
                        Owner::Plans,
                        budget,
                        as_caller,
                        // To offer support, by a person, on the agent's channel, holding no slot.
                        plans::CheckContactRequest {
                            customer_id: customer_id.to_owned(),
                            account_id: account_id.clone(),
                            channel: channel as i32,
                            at: None,
                            purpose: plans::ContactPurpose::Support as i32,
                            automated: false,
                            reserve: false,
                            requested_by: Some(actor(caller)),
                        },
                        rpc!(self.upstreams.outreach, check_contact),
                    ),
                    ask(
                        Owner::Plans,
                        budget,
                        as_caller,
                        plans::NextBestActionRequest {
                            account_id: account_id.clone(),
                            at: None,
                        },
                        rpc!(self.upstreams.outreach, next_best_action),
                    ),
                );
                let (state, decision) = split(Owner::Plans, decision.map(Some));
                let contact = pb::ContactSection {
                    account_id: account_id.clone(),
                    state,
                    decision,
                };
                let (state, action) = split(Owner::Plans, action.map(Some));
                let next_best_action = pb::NextBestActionSection {
                    account_id,
                    state,
                    action,
                };
                (contact, next_best_action)
            }
        };
        (accounts_section, contact, next_best_action)
    }

    async fn protections(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::ProtectionsSection {
        let answer = ask(
            Owner::Plans,
            budget,
            as_caller,
            plans::ListProtectionsRequest {
                customer_id: customer_id.to_owned(),
                account_id: String::new(),
                include_ended: false,
                page: first_page(),
            },
            rpc!(self.upstreams.hardship, list_protections),
        )
        .await;
        let (state, answer) = split(Owner::Plans, answer);
        pb::ProtectionsSection {
            state,
            protections: answer.protections,
        }
    }

    async fn hardship(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::HardshipSection {
        let answer = ask(
            Owner::Plans,
            budget,
            as_caller,
            plans::ListHardshipCasesRequest {
                customer_id: customer_id.to_owned(),
                account_id: String::new(),
                statuses: vec![plans::HardshipCaseStatus::Open as i32],
                page: first_page(),
            },
            rpc!(self.upstreams.hardship, list_hardship_cases),
        )
        .await;
        let (state, answer) = split(Owner::Plans, answer);
        pb::HardshipSection {
            state,
            open_cases: answer.cases,
        }
    }

    async fn plans(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::PlansSection {
        let answer = ask(
            Owner::Plans,
            budget,
            as_caller,
            plans::ListPlansRequest {
                account_id: String::new(),
                customer_id: customer_id.to_owned(),
                statuses: Vec::new(),
                page: first_page(),
            },
            rpc!(self.upstreams.plans, list_plans),
        )
        .await;
        let (state, mut answer) = split(Owner::Plans, answer);
        sections::newest_first(&mut answer.plans);
        pb::PlansSection {
            state,
            plans: answer.plans.into_iter().map(sections::summarise).collect(),
        }
    }

    async fn promises(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::PromisesSection {
        let answer = ask(
            Owner::Plans,
            budget,
            as_caller,
            plans::ListPromisesToPayRequest {
                account_id: String::new(),
                customer_id: customer_id.to_owned(),
                statuses: Vec::new(),
                page: first_page(),
            },
            rpc!(self.upstreams.plans, list_promises_to_pay),
        )
        .await;
        let (state, answer) = split(Owner::Plans, answer);
        pb::PromisesSection {
            state,
            promises: answer.promises,
        }
    }

    async fn loyalty(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::LoyaltySection {
        let answer = ask(
            Owner::Loyalty,
            budget,
            as_caller,
            loyalty::GetLoyaltyScoreRequest {
                customer_id: customer_id.to_owned(),
                as_of: None,
            },
            rpc!(self.upstreams.loyalty, get_loyalty_score),
        )
        .await;
        let (state, answer) = split(Owner::Loyalty, answer);
        pb::LoyaltySection {
            state,
            score: answer.score,
        }
    }

    /// Detractor follow-ups not yet closed: OPEN covers those past their SLA too (OVERDUE is
    /// derived from the clock).
    async fn follow_ups(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::FollowUpsSection {
        let answer = ask(
            Owner::Loyalty,
            budget,
            as_caller,
            loyalty::ListFollowUpsRequest {
                status: loyalty::FollowUpStatus::Open as i32,
                owner_id: String::new(),
                customer_id: customer_id.to_owned(),
                page: first_page(),
            },
            rpc!(self.upstreams.loyalty, list_follow_ups),
        )
        .await;
        let (state, answer) = split(Owner::Loyalty, answer);
        pb::FollowUpsSection {
            state,
            follow_ups: answer.follow_ups,
        }
    }

    async fn commitments(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::CommitmentsSection {
        let answer = ask(
            Owner::Profiles,
            budget,
            as_caller,
            profiles::ListCommitmentsRequest {
                customer_id: customer_id.to_owned(),
                statuses: vec![
                    profiles::CommitmentStatus::Open as i32,
                    profiles::CommitmentStatus::Overdue as i32,
                ],
                page: first_page(),
            },
            rpc!(self.upstreams.profiles, list_commitments),
        )
        .await;
        let (state, answer) = split(Owner::Profiles, answer);
        pb::CommitmentsSection {
            state,
            commitments: answer.commitments,
        }
    }

    /// The referrals the customer made and their trust, asked together; the section is OK only
    /// when both answered (otherwise the first failure's state, and nothing shown).
    async fn referrals(
        &self,
        customer_id: &str,
        as_caller: &AsCaller,
        budget: Budget,
    ) -> pb::ReferralsSection {
        let (made, trust) = tokio::join!(
            ask(
                Owner::Referrals,
                budget,
                as_caller,
                referrals::ListReferralsRequest {
                    referrer_customer_id: customer_id.to_owned(),
                    referee_customer_id: String::new(),
                    statuses: Vec::new(),
                    page: first_page(),
                },
                rpc!(self.upstreams.referrals, list_referrals),
            ),
            ask(
                Owner::Referrals,
                budget,
                as_caller,
                referrals::GetTrustRequest {
                    subject: Some(referrals::get_trust_request::Subject::CustomerId(
                        customer_id.to_owned(),
                    )),
                },
                rpc!(self.upstreams.referrals, get_trust),
            ),
        );
        let (state, (made, trust)) = split(
            Owner::Referrals,
            made.and_then(|made| trust.map(|trust| (made, Some(trust)))),
        );
        pb::ReferralsSection {
            state,
            referrals_made: made.referrals,
            trust,
        }
    }
}
