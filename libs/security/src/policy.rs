//! Roles, permissions, and the permission each RPC needs: the whole access policy, in two tables.
//!
//! [`RPCS`] says what each RPC needs and whether it is audited; [`GRANTS`] says what each role
//! holds. A caller holding several roles may do what any of them may. An RPC missing from
//! [`RPCS`] is refused for everyone (a test checks that every RPC of the contract is listed).

use std::fmt;
use std::str::FromStr;

/// Who a caller is to Rapport; carried in the token's `roles` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A call-center agent helping one customer at a time.
    Agent,
    /// An agent's supervisor: the decisions that need a second person.
    Supervisor,
    /// The bank's billing or core-banking system: accounts, balances, payments.
    BillingSystem,
    /// Another Rapport service, or a scheduled job of the suite.
    Service,
    /// Reads the audit trail and the recovery report; nothing about one customer.
    Auditor,
    /// Operates the suite: health, reflection, chain verification; no customer data.
    Sre,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Agent,
        Role::Supervisor,
        Role::BillingSystem,
        Role::Service,
        Role::Auditor,
        Role::Sre,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::BillingSystem => "billing_system",
            Role::Service => "service",
            Role::Auditor => "auditor",
            Role::Sre => "sre",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("unknown role {text:?}"))
    }
}

/// One thing a caller may be allowed to do. `PERMISSION_DENIED` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    CustomersRead,
    CustomersWrite,
    TimelineWrite,
    VulnerabilityRead,
    VulnerabilityWrite,
    CustomersMerge,
    CustomersExport,
    CustomersErase,
    AccountsRead,
    AccountsWrite,
    HardshipRead,
    HardshipWrite,
    ProtectionsSet,
    ProtectionsClear,
    OutreachRead,
    OutreachWrite,
    PlanOptionsRead,
    PlansAccept,
    PlansRead,
    PlanPaymentsWrite,
    PlansCancel,
    PromisesWrite,
    ReportsRead,
    ReferralsRead,
    ReferralsWrite,
    ReferralsEvaluate,
    /// The suite's own events into referrals (good standing from plans): only services, since
    /// standing decides who may vouch and who anchors trust.
    ReferralsEventsIngest,
    /// Profiles' merges and erasures into plans: only services, since a merge moves accounts
    /// from one customer to another.
    PlansEventsIngest,
    FraudRead,
    FraudResolve,
    SurveysRead,
    SurveysWrite,
    FollowUpsRead,
    FollowUpsClose,
    LoyaltyRead,
    RewardsIssue,
    EventsIngest,
    AuditRead,
    AuditVerify,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            CustomersRead => "customers.read",
            CustomersWrite => "customers.write",
            TimelineWrite => "customers.timeline.write",
            VulnerabilityRead => "customers.vulnerability.read",
            VulnerabilityWrite => "customers.vulnerability.write",
            CustomersMerge => "customers.merge",
            CustomersExport => "customers.export",
            CustomersErase => "customers.erase",
            AccountsRead => "accounts.read",
            AccountsWrite => "accounts.write",
            HardshipRead => "hardship.read",
            HardshipWrite => "hardship.write",
            ProtectionsSet => "protections.set",
            ProtectionsClear => "protections.clear",
            OutreachRead => "outreach.read",
            OutreachWrite => "outreach.write",
            PlanOptionsRead => "plans.options.read",
            PlansAccept => "plans.accept",
            PlansRead => "plans.read",
            PlanPaymentsWrite => "plans.payments.write",
            PlansCancel => "plans.cancel",
            PromisesWrite => "promises.write",
            ReportsRead => "reports.read",
            ReferralsRead => "referrals.read",
            ReferralsWrite => "referrals.write",
            ReferralsEvaluate => "referrals.evaluate",
            ReferralsEventsIngest => "referrals.events.ingest",
            PlansEventsIngest => "plans.events.ingest",
            FraudRead => "fraud.read",
            FraudResolve => "fraud.resolve",
            SurveysRead => "surveys.read",
            SurveysWrite => "surveys.write",
            FollowUpsRead => "follow_ups.read",
            FollowUpsClose => "follow_ups.close",
            LoyaltyRead => "loyalty.read",
            RewardsIssue => "rewards.issue",
            EventsIngest => "events.ingest",
            AuditRead => "audit.read",
            AuditVerify => "audit.verify",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a call goes to the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A read of ordinary data: not audited.
    Read,
    /// A read of sensitive data (vulnerability, income and expenditure, a full export, the audit
    /// trail itself): audited, and refused if the audit entry cannot be written.
    SensitiveRead,
    /// A change: audited.
    Change,
}

/// What one RPC needs. `elevated` raises the need when a request field has a given value
/// (`GetCustomer` with `view = WITH_VULNERABILITY`).
#[derive(Debug, Clone, Copy)]
pub struct Rpc {
    pub method: &'static str,
    pub permission: Permission,
    pub access: Access,
    pub elevated: Option<Elevation>,
}

/// A request whose top-level enum field `field` (by number) equals `value` needs `permission`
/// and is audited as `access`.
#[derive(Debug, Clone, Copy)]
pub struct Elevation {
    pub field: u32,
    pub value: u64,
    pub permission: Permission,
    pub access: Access,
}

const fn rpc(method: &'static str, permission: Permission, access: Access) -> Rpc {
    Rpc {
        method,
        permission,
        access,
        elevated: None,
    }
}

use Access::{Change, Read, SensitiveRead};
use Permission::*;

/// Calls anyone may make without a token: load balancers and probes ask for health.
pub const OPEN_SERVICES: &[&str] = &["grpc.health.v1.Health"];
/// Calls any authenticated caller may make.
pub const AUTHENTICATED_SERVICES: &[&str] = &[
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The permission every RPC needs. Sources: DESIGN.md (Operations: security) and issue 9.
#[rustfmt::skip]
pub const RPCS: &[Rpc] = &[
    // profiles
    rpc("/rapport.profiles.v1.ProfileService/CreateCustomer", CustomersWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/UpsertCustomerByExternalRef", CustomersWrite, Change),
    Rpc {
        method: "/rapport.profiles.v1.ProfileService/GetCustomer",
        permission: CustomersRead,
        access: Read,
        // GetCustomerRequest.view = CUSTOMER_VIEW_WITH_VULNERABILITY
        elevated: Some(Elevation { field: 2, value: 3, permission: VulnerabilityRead, access: SensitiveRead }),
    },
    rpc("/rapport.profiles.v1.ProfileService/UpdateCustomer", CustomersWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/SearchCustomers", CustomersRead, Read),
    rpc("/rapport.profiles.v1.ProfileService/RecordInteraction", TimelineWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/ListInteractions", CustomersRead, Read),
    rpc("/rapport.profiles.v1.ProfileService/RecordCommitment", TimelineWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/ResolveCommitment", TimelineWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/ListCommitments", CustomersRead, Read),
    rpc("/rapport.profiles.v1.ProfileService/SetConsent", CustomersWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/ListConsents", CustomersRead, Read),
    rpc("/rapport.profiles.v1.ProfileService/SetContactPreferences", CustomersWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/SetVulnerability", VulnerabilityWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/ClearVulnerability", VulnerabilityWrite, Change),
    rpc("/rapport.profiles.v1.ProfileService/ListAnniversaries", CustomersRead, Read),
    rpc("/rapport.profiles.v1.ProfileService/MergeCustomers", CustomersMerge, Change),
    rpc("/rapport.profiles.v1.ProfileService/ExportCustomer", CustomersExport, SensitiveRead),
    rpc("/rapport.profiles.v1.ProfileService/EraseCustomer", CustomersErase, Change),
    // plans: accounts, from billing
    rpc("/rapport.plans.v1.AccountService/UpsertAccount", AccountsWrite, Change),
    rpc("/rapport.plans.v1.AccountService/ReportPayment", AccountsWrite, Change),
    rpc("/rapport.plans.v1.AccountService/ReportArrears", AccountsWrite, Change),
    rpc("/rapport.plans.v1.AccountService/GetAccount", AccountsRead, Read),
    rpc("/rapport.plans.v1.AccountService/ListAccounts", AccountsRead, Read),
    rpc("/rapport.plans.v1.AccountService/IngestEvents", PlansEventsIngest, Change),
    // plans: hardship (income and expenditure are sensitive)
    rpc("/rapport.plans.v1.HardshipService/OpenHardshipCase", HardshipWrite, Change),
    rpc("/rapport.plans.v1.HardshipService/SubmitIncomeExpenditure", HardshipWrite, Change),
    rpc("/rapport.plans.v1.HardshipService/GetAffordability", HardshipRead, SensitiveRead),
    rpc("/rapport.plans.v1.HardshipService/ReferToDebtAdvice", HardshipWrite, Change),
    rpc("/rapport.plans.v1.HardshipService/SetProtection", ProtectionsSet, Change),
    rpc("/rapport.plans.v1.HardshipService/ClearProtection", ProtectionsClear, Change),
    rpc("/rapport.plans.v1.HardshipService/ListHardshipCases", HardshipRead, SensitiveRead),
    rpc("/rapport.plans.v1.HardshipService/GetHardshipCase", HardshipRead, SensitiveRead),
    rpc("/rapport.plans.v1.HardshipService/ListProtections", HardshipRead, Read),
    // plans: outreach
    rpc("/rapport.plans.v1.OutreachService/CheckContact", OutreachRead, Read),
    rpc("/rapport.plans.v1.OutreachService/RecordContactAttempt", OutreachWrite, Change),
    rpc("/rapport.plans.v1.OutreachService/NextBestAction", OutreachRead, Read),
    rpc("/rapport.plans.v1.OutreachService/RenderMessage", OutreachRead, Read),
    rpc("/rapport.plans.v1.OutreachService/ListTemplates", OutreachRead, Read),
    // plans: payment plans and promises
    rpc("/rapport.plans.v1.PlanService/GetPlanOptions", PlanOptionsRead, Read),
    rpc("/rapport.plans.v1.PlanService/AcceptPlan", PlansAccept, Change),
    rpc("/rapport.plans.v1.PlanService/GetPlan", PlansRead, Read),
    rpc("/rapport.plans.v1.PlanService/ListPlans", PlansRead, Read),
    rpc("/rapport.plans.v1.PlanService/RecordPlanPayment", PlanPaymentsWrite, Change),
    rpc("/rapport.plans.v1.PlanService/CancelPlan", PlansCancel, Change),
    rpc("/rapport.plans.v1.PlanService/RecordPromiseToPay", PromisesWrite, Change),
    rpc("/rapport.plans.v1.PlanService/ListPromisesToPay", PlansRead, Read),
    rpc("/rapport.plans.v1.ReportingService/GetRecoveryReport", ReportsRead, Read),
    // referrals
    rpc("/rapport.referrals.v1.ReferralService/IssueReferralCode", ReferralsWrite, Change),
    rpc("/rapport.referrals.v1.ReferralService/CreateReferral", ReferralsWrite, Change),
    rpc("/rapport.referrals.v1.ReferralService/AttributeSignup", ReferralsWrite, Change),
    rpc("/rapport.referrals.v1.ReferralService/GetReferral", ReferralsRead, Read),
    rpc("/rapport.referrals.v1.ReferralService/ListReferrals", ReferralsRead, Read),
    rpc("/rapport.referrals.v1.ReferralService/RequestVouch", ReferralsWrite, Change),
    rpc("/rapport.referrals.v1.ReferralService/RespondToVouch", ReferralsWrite, Change),
    rpc("/rapport.referrals.v1.ReferralService/GetTrust", ReferralsRead, Read),
    rpc("/rapport.referrals.v1.ReferralService/EvaluateQualifications", ReferralsEvaluate, Change),
    rpc("/rapport.referrals.v1.ReferralService/ListRewards", ReferralsRead, Read),
    rpc("/rapport.referrals.v1.ReferralService/ListFraudFlags", FraudRead, Read),
    rpc("/rapport.referrals.v1.ReferralService/ResolveFraudFlag", FraudResolve, Change),
    rpc("/rapport.referrals.v1.ReferralService/IngestEvents", ReferralsEventsIngest, Change),
    // loyalty
    rpc("/rapport.loyalty.v1.LoyaltyService/RecordSurveyResponse", SurveysWrite, Change),
    rpc("/rapport.loyalty.v1.LoyaltyService/ShouldSurvey", SurveysRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/ListFollowUps", FollowUpsRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/CloseFollowUp", FollowUpsClose, Change),
    rpc("/rapport.loyalty.v1.LoyaltyService/GetLoyaltyScore", LoyaltyRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/GetScoreHistory", LoyaltyRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/ListAtRisk", LoyaltyRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/GetNps", SurveysRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/IssueAnniversaryRewards", RewardsIssue, Change),
    rpc("/rapport.loyalty.v1.LoyaltyService/ListRewards", LoyaltyRead, Read),
    rpc("/rapport.loyalty.v1.LoyaltyService/RecordRecognition", SurveysWrite, Change),
    rpc("/rapport.loyalty.v1.LoyaltyService/IngestEvents", EventsIngest, Change),
    // desk: the overview asks the four services as its caller, so each section is checked
    // (and audited) there; desk itself needs only that the caller may read customers.
    rpc("/rapport.desk.v1.DeskService/GetCustomerOverview", CustomersRead, Read),
    // audit (every service process)
    rpc("/rapport.audit.v1.AuditService/ListAuditEntries", AuditRead, SensitiveRead),
    rpc("/rapport.audit.v1.AuditService/VerifyAuditChain", AuditVerify, Read),
];

/// What each role holds.
#[rustfmt::skip]
pub const GRANTS: &[(Role, &[Permission])] = &[
    // On the phone with one customer: reads and helps; cannot see vulnerability details (the
    // contact rules use them for her), erase, merge, export, clear protections or judge fraud.
    (Role::Agent, &[
        CustomersRead, CustomersWrite, TimelineWrite, VulnerabilityWrite,
        AccountsRead, HardshipRead, HardshipWrite, ProtectionsSet,
        OutreachRead, OutreachWrite, PlanOptionsRead, PlansAccept, PlansRead, PlansCancel, PromisesWrite,
        ReferralsRead, ReferralsWrite,
        SurveysRead, SurveysWrite, FollowUpsRead, FollowUpsClose, LoyaltyRead,
    ]),
    // Everything an agent does, plus the decisions that need a second person.
    (Role::Supervisor, &[
        CustomersRead, CustomersWrite, TimelineWrite, VulnerabilityRead, VulnerabilityWrite,
        CustomersMerge, CustomersExport, CustomersErase,
        AccountsRead, HardshipRead, HardshipWrite, ProtectionsSet, ProtectionsClear,
        OutreachRead, OutreachWrite, PlanOptionsRead, PlansAccept, PlansRead, PlansCancel, PromisesWrite,
        ReportsRead,
        ReferralsRead, ReferralsWrite, ReferralsEvaluate, FraudRead, FraudResolve,
        SurveysRead, SurveysWrite, FollowUpsRead, FollowUpsClose, LoyaltyRead,
    ]),
    // Posts customers, accounts, balances and payments; reports outside events (products held,
    // complaints) to loyalty.
    (Role::BillingSystem, &[
        CustomersRead, CustomersWrite, AccountsRead, AccountsWrite, PlanPaymentsWrite, EventsIngest,
    ]),
    // The suite's own calls: plans reads vulnerability for contact decisions, loyalty writes
    // follow-ups to the timeline, every producer delivers events (plans its good standing to
    // referrals too, profiles its merges and erasures to plans), scheduled jobs evaluate referrals and issue anniversary rewards.
    (Role::Service, &[
        CustomersRead, VulnerabilityRead, TimelineWrite, EventsIngest, ReferralsEventsIngest,
        PlansEventsIngest, ReferralsEvaluate, RewardsIssue,
    ]),
    (Role::Auditor, &[AuditRead, AuditVerify, ReportsRead]),
    (Role::Sre, &[AuditVerify]),
];

/// The entry for `method` (`/package.Service/Method`), if it is in the table.
pub fn rpc_of(method: &str) -> Option<&'static Rpc> {
    RPCS.iter().find(|rpc| rpc.method == method)
}

/// Whether `role` holds `permission`.
pub fn grants(role: Role, permission: Permission) -> bool {
    GRANTS
        .iter()
        .any(|(holder, held)| *holder == role && held.contains(&permission))
}

/// The gRPC service of a method path: `/a.b.Service/Method` → `a.b.Service`.
pub fn service_of(method: &str) -> &str {
    let trimmed = method.strip_prefix('/').unwrap_or(method);
    trimmed.split('/').next().unwrap_or(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    const PROFILES: &str = "/rapport.profiles.v1.ProfileService/";
    const ACCOUNTS: &str = "/rapport.plans.v1.AccountService/";

    #[test]
    fn every_rpc_of_the_contract_is_in_the_table_once() {
        let set = prost_types::FileDescriptorSet::decode(rapport_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let mut contract = Vec::new();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    contract.push(format!(
                        "/{}.{}/{}",
                        file.package(),
                        service.name(),
                        method.name()
                    ));
                }
            }
        }
        contract.sort();
        let mut table: Vec<String> = RPCS.iter().map(|rpc| rpc.method.to_owned()).collect();
        table.sort();
        let listed_twice: Vec<_> = table.windows(2).filter(|w| w[0] == w[1]).collect();
        assert!(listed_twice.is_empty(), "listed twice: {listed_twice:?}");
        assert_eq!(table, contract, "the table and the contract differ");
    }

    #[test]
    fn the_issue_s_examples_hold() {
        let erase = rpc_of(&format!("{PROFILES}EraseCustomer")).expect("listed");
        assert!(
            !grants(Role::Agent, erase.permission),
            "agents cannot erase"
        );
        assert!(grants(Role::Supervisor, erase.permission));
        let post = rpc_of(&format!("{ACCOUNTS}UpsertAccount")).expect("listed");
        assert!(grants(Role::BillingSystem, post.permission));
        assert!(!grants(Role::Agent, post.permission));
        let clear = rpc_of("/rapport.plans.v1.HardshipService/ClearProtection").expect("listed");
        let clearers: Vec<_> = Role::ALL
            .into_iter()
            .filter(|role| grants(*role, clear.permission))
            .collect();
        assert_eq!(
            clearers,
            [Role::Supervisor],
            "only supervisors clear protections"
        );
        let get = rpc_of(&format!("{PROFILES}GetCustomer")).expect("listed");
        let vulnerability = get.elevated.expect("the vulnerability view is elevated");
        assert_eq!(vulnerability.access, SensitiveRead);
        let readers: Vec<_> = Role::ALL
            .into_iter()
            .filter(|role| grants(*role, vulnerability.permission))
            .collect();
        assert_eq!(readers, [Role::Supervisor, Role::Service]);
    }

    #[test]
    fn roles_parse_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn the_service_of_a_method() {
        assert_eq!(
            service_of("/rapport.plans.v1.PlanService/AcceptPlan"),
            "rapport.plans.v1.PlanService"
        );
    }
}
