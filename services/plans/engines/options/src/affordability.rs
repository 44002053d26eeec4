//! Affordability: what a customer can pay each month, from a statement in the shape of the UK
//! Standard Financial Statement (SFS).
//!
//! DESIGN.md "Affordability and options": disposable income = income − fixed costs − flexible
//! costs (− the SFS savings allowance, which the statement deducts like a cost). Flexible costs
//! above the trigger figures are flagged for a conversation, never silently cut: the disposable
//! income always uses what the customer declared.
//!
//! All amounts are `i64` minor units of one currency, monthly. The caller checks that every line
//! is in the same currency before calling (mixed currencies are rejected at the edge).

use std::collections::BTreeMap;
use std::fmt;

/// Where the trigger figures come from; quoted on every flag.
pub const SFS_TRIGGER_RULE: &str = "UK Standard Financial Statement trigger figures";
/// Where the disposable-income formula comes from.
pub const SFS_DISPOSABLE_RULE: &str =
    "UK Standard Financial Statement: income − fixed costs − flexible costs − savings";

/// One reason behind an assessment, a flag or a plan option ("explain everything"): the one
/// reason type every engine gives, under the name the engines have always used.
pub use rapport_reasons::{Reason as Explanation, ReasonEffect};

// ---------------------------------------------------------------- statement

/// SFS income lines (`IncomeCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncomeCategory {
    Earnings,
    PartnerEarnings,
    Benefits,
    Pension,
    ChildMaintenance,
    Other,
}

/// SFS fixed costs (`FixedCostCategory`); never checked against trigger figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FixedCostCategory {
    /// Rent, mortgage, council tax, contents insurance.
    HomeAndContents,
    Utilities,
    CareAndHealth,
    TransportAndTravel,
    School,
    PensionsAndInsurance,
    Professional,
    /// Payments on priority debts (rent/mortgage arrears, council tax, fines).
    PriorityDebts,
    OtherEssential,
}

/// SFS flexible costs (`FlexibleCostCategory`), checked against trigger figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlexibleCostCategory {
    CommunicationsAndLeisure,
    FoodAndHousekeeping,
    Personal,
}

impl FlexibleCostCategory {
    /// In proto order; flags come out in this order.
    pub const ALL: [Self; 3] = [
        Self::CommunicationsAndLeisure,
        Self::FoodAndHousekeeping,
        Self::Personal,
    ];

    /// Plain words for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::CommunicationsAndLeisure => "communications and leisure",
            Self::FoodAndHousekeeping => "food and housekeeping",
            Self::Personal => "personal costs",
        }
    }
}

impl fmt::Display for FlexibleCostCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeLine {
    pub category: IncomeCategory,
    pub description: String,
    /// Monthly, minor units, ≥ 0.
    pub monthly: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedCost {
    pub category: FixedCostCategory,
    pub description: String,
    /// Monthly, minor units, ≥ 0.
    pub monthly: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlexibleCost {
    pub category: FlexibleCostCategory,
    pub description: String,
    /// Monthly, minor units, ≥ 0.
    pub monthly: i64,
}

/// Household composition selects the trigger figures. `adults == 0` is read as one adult: the
/// customer is always part of their own household. Vehicles are recorded for the conversation;
/// in the SFS they bear on travel (a fixed cost), not on the flexible trigger figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Household {
    pub adults: u8,
    pub children: u8,
    pub vehicles: u8,
}

/// A statement in the shape of the UK Standard Financial Statement; every amount monthly, in
/// one currency.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Statement {
    pub household: Household,
    pub income: Vec<IncomeLine>,
    pub fixed: Vec<FixedCost>,
    pub flexible: Vec<FlexibleCost>,
    /// The SFS savings line, deducted like a cost; ≥ 0.
    pub savings_allowance: i64,
}

// ---------------------------------------------------------------- trigger figures

/// Monthly trigger figure per flexible category, minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CategoryFigures {
    pub communications_and_leisure: i64,
    pub food_and_housekeeping: i64,
    pub personal: i64,
}

impl CategoryFigures {
    pub fn get(&self, category: FlexibleCostCategory) -> i64 {
        match category {
            FlexibleCostCategory::CommunicationsAndLeisure => self.communications_and_leisure,
            FlexibleCostCategory::FoodAndHousekeeping => self.food_and_housekeeping,
            FlexibleCostCategory::Personal => self.personal,
        }
    }

    fn values(&self) -> [i64; 3] {
        [
            self.communications_and_leisure,
            self.food_and_housekeeping,
            self.personal,
        ]
    }

    /// `self + step × count`, checked.
    fn plus_times(&self, step: &Self, count: u8) -> Option<Self> {
        let add = |base: i64, per: i64| per.checked_mul(i64::from(count))?.checked_add(base);
        Some(Self {
            communications_and_leisure: add(
                self.communications_and_leisure,
                step.communications_and_leisure,
            )?,
            food_and_housekeeping: add(self.food_and_housekeeping, step.food_and_housekeeping)?,
            personal: add(self.personal, step.personal)?,
        })
    }
}

/// A versioned, configurable table of SFS trigger figures by household composition.
///
/// The SFS publishes figures by household composition (adults and children). This table holds
/// explicit rows for the compositions it knows and per-person increments for everything else,
/// so any household gets a figure: the lookup starts from the largest defined row that fits
/// inside the household (most adults, then most children, never more of either than the
/// household has) and adds `per_extra_adult` / `per_extra_child` for each person beyond it.
/// A row for one adult with no children is required, so every household has a starting row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerFigures {
    version: String,
    rows: BTreeMap<(u8, u8), CategoryFigures>,
    per_extra_adult: CategoryFigures,
    per_extra_child: CategoryFigures,
}

impl TriggerFigures {
    /// Builds a table. `rows` are `(adults, children, figures)`; one of them must be `(1, 0)`.
    /// Every figure must be ≥ 0 and every `(adults, children)` pair unique.
    pub fn new(
        version: impl Into<String>,
        rows: impl IntoIterator<Item = (u8, u8, CategoryFigures)>,
        per_extra_adult: CategoryFigures,
        per_extra_child: CategoryFigures,
    ) -> Result<Self, AffordabilityError> {
        let version = version.into();
        if version.trim().is_empty() {
            return Err(AffordabilityError::InvalidTriggerFigures(
                "the version must not be empty",
            ));
        }
        let mut table = BTreeMap::new();
        for (adults, children, figures) in rows {
            if adults == 0 {
                return Err(AffordabilityError::InvalidTriggerFigures(
                    "a row must have at least one adult",
                ));
            }
            if figures.values().iter().any(|v| *v < 0) {
                return Err(AffordabilityError::InvalidTriggerFigures(
                    "trigger figures must not be negative",
                ));
            }
            if table.insert((adults, children), figures).is_some() {
                return Err(AffordabilityError::InvalidTriggerFigures(
                    "each household composition may appear only once",
                ));
            }
        }
        if !table.contains_key(&(1, 0)) {
            return Err(AffordabilityError::InvalidTriggerFigures(
                "a row for one adult with no children is required",
            ));
        }
        if per_extra_adult
            .values()
            .iter()
            .chain(per_extra_child.values().iter())
            .any(|v| *v < 0)
        {
            return Err(AffordabilityError::InvalidTriggerFigures(
                "per-person increments must not be negative",
            ));
        }
        Ok(Self {
            version,
            rows: table,
            per_extra_adult,
            per_extra_child,
        })
    }

    /// ILLUSTRATIVE default figures in pence (GBP, exponent 2), version `"sfs-2024-illustrative"`.
    ///
    /// These are NOT the official SFS trigger figures: those are published and licensed by the
    /// Money Advice Trust to SFS member organisations and updated each year. We ship plausible
    /// placeholders so the service works out of the box; a deployment that uses the SFS loads
    /// the licensed table through configuration (`TriggerFigures::new`) with its own version.
    ///
    /// | household | comms & leisure | food & housekeeping | personal |
    /// |---|---|---|---|
    /// | 1 adult | £100 | £350 | £80 |
    /// | 2 adults | £140 | £550 | £130 |
    /// | each further adult | +£40 | +£200 | +£50 |
    /// | each child | +£30 | +£120 | +£40 |
    pub fn sfs_default_gbp() -> Self {
        let one_adult = CategoryFigures {
            communications_and_leisure: 10_000,
            food_and_housekeeping: 35_000,
            personal: 8_000,
        };
        let two_adults = CategoryFigures {
            communications_and_leisure: 14_000,
            food_and_housekeeping: 55_000,
            personal: 13_000,
        };
        let per_extra_adult = CategoryFigures {
            communications_and_leisure: 4_000,
            food_and_housekeeping: 20_000,
            personal: 5_000,
        };
        let per_extra_child = CategoryFigures {
            communications_and_leisure: 3_000,
            food_and_housekeeping: 12_000,
            personal: 4_000,
        };
        // The rows above are valid by construction; building the struct directly keeps this
        // constructor infallible.
        Self {
            version: "sfs-2024-illustrative".to_owned(),
            rows: BTreeMap::from([((1, 0), one_adult), ((2, 0), two_adults)]),
            per_extra_adult,
            per_extra_child,
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// The monthly trigger figures for a household (see the type's docs for the lookup).
    pub fn for_household(
        &self,
        household: &Household,
    ) -> Result<CategoryFigures, AffordabilityError> {
        let adults = household.adults.max(1);
        let children = household.children;
        // The largest defined row inside the household: most adults first, then most children.
        // (1, 0) always qualifies, so a row is always found.
        let ((row_adults, row_children), base) = self
            .rows
            .iter()
            .filter(|((a, c), _)| *a <= adults && *c <= children)
            .max_by_key(|((a, c), _)| (*a, *c))
            .map(|(k, v)| (*k, *v))
            .ok_or(AffordabilityError::InvalidTriggerFigures(
                "a row for one adult with no children is required",
            ))?;
        base.plus_times(&self.per_extra_adult, adults - row_adults)
            .and_then(|f| f.plus_times(&self.per_extra_child, children - row_children))
            .ok_or(AffordabilityError::Overflow("trigger figures"))
    }
}

// ---------------------------------------------------------------- assessment

/// A flexible cost above its trigger figure: a conversation, never a cut (`FlaggedCost`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub category: FlexibleCostCategory,
    /// Sum of every declared line in the category.
    pub declared: i64,
    pub trigger_figure: i64,
    /// `declared − trigger_figure`, > 0.
    pub excess: i64,
    pub explanation: Explanation,
}

/// The result of [`assess`] (`Affordability`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub total_income: i64,
    pub total_fixed: i64,
    pub total_flexible: i64,
    pub savings_allowance: i64,
    /// income − fixed − flexible − savings allowance, from the declared figures; may be negative.
    pub disposable_income: i64,
    pub flagged: Vec<Flag>,
    pub reasons: Vec<Explanation>,
    pub figures_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AffordabilityError {
    /// `section` is the proto field name (`income`, `fixed_costs`, `flexible_costs`,
    /// `savings_allowance`), `index` the 0-based line (0 for the savings allowance), so the edge
    /// can build a field violation such as `income_expenditure.fixed_costs[2].monthly_amount`.
    #[error("{section}[{index}]: a monthly amount must not be negative")]
    NegativeLine { section: &'static str, index: usize },
    #[error("the total of {0} is too large to compute")]
    Overflow(&'static str),
    #[error("invalid trigger figures: {0}")]
    InvalidTriggerFigures(&'static str),
}

fn checked_total<'a>(
    section: &'static str,
    amounts: impl Iterator<Item = &'a i64>,
) -> Result<i64, AffordabilityError> {
    amounts
        .enumerate()
        .try_fold(0_i64, |total, (index, amount)| {
            if *amount < 0 {
                return Err(AffordabilityError::NegativeLine { section, index });
            }
            total
                .checked_add(*amount)
                .ok_or(AffordabilityError::Overflow(section))
        })
}

/// Assesses a statement against a trigger-figure table.
///
/// Every line is validated first (a negative amount is an error naming its line); then the
/// totals, the disposable income from the declared figures, one flag per flexible category whose
/// declared total is strictly above its trigger figure, and the reasons.
pub fn assess(
    statement: &Statement,
    figures: &TriggerFigures,
) -> Result<Assessment, AffordabilityError> {
    let total_income = checked_total("income", statement.income.iter().map(|l| &l.monthly))?;
    let total_fixed = checked_total("fixed_costs", statement.fixed.iter().map(|l| &l.monthly))?;
    let total_flexible = checked_total(
        "flexible_costs",
        statement.flexible.iter().map(|l| &l.monthly),
    )?;
    let savings_allowance = checked_total(
        "savings_allowance",
        std::iter::once(&statement.savings_allowance),
    )?;

    // Declared figures, never the trigger figures: flagged costs are a conversation, not a cut.
    let disposable_income = total_fixed
        .checked_add(total_flexible)
        .and_then(|costs| costs.checked_add(savings_allowance))
        .and_then(|costs| total_income.checked_sub(costs))
        .ok_or(AffordabilityError::Overflow("disposable income"))?;

    let household = statement.household;
    let triggers = figures.for_household(&household)?;
    let mut flagged = Vec::new();
    for category in FlexibleCostCategory::ALL {
        // Lines were validated above, so this sum cannot fail where the total did not.
        let declared = statement
            .flexible
            .iter()
            .filter(|l| l.category == category)
            .try_fold(0_i64, |t, l| t.checked_add(l.monthly))
            .ok_or(AffordabilityError::Overflow("flexible_costs"))?;
        let trigger_figure = triggers.get(category);
        if declared <= trigger_figure {
            continue;
        }
        let excess = declared - trigger_figure;
        let explanation = Explanation::new(
            "FLEXIBLE_COST_ABOVE_TRIGGER",
            ReasonEffect::Neutral,
            SFS_TRIGGER_RULE,
            format!(
                "Spending on {} is above the usual figure for a household of this size. It is \
                 counted as declared; it is something to talk through together, not something \
                 we cut.",
                category.label()
            ),
        )
        .param("category", category.label())
        .param("declared", declared)
        .param("trigger_figure", trigger_figure)
        .param("excess", excess)
        .param("adults", household.adults.max(1))
        .param("children", household.children)
        .param("figures_version", figures.version());
        flagged.push(Flag {
            category,
            declared,
            trigger_figure,
            excess,
            explanation,
        });
    }

    let reasons = reasons(
        statement,
        total_income,
        total_fixed,
        total_flexible,
        savings_allowance,
        disposable_income,
        &flagged,
    );
    Ok(Assessment {
        total_income,
        total_fixed,
        total_flexible,
        savings_allowance,
        disposable_income,
        flagged,
        reasons,
        figures_version: figures.version().to_owned(),
    })
}

fn reasons(
    statement: &Statement,
    total_income: i64,
    total_fixed: i64,
    total_flexible: i64,
    savings_allowance: i64,
    disposable_income: i64,
    flagged: &[Flag],
) -> Vec<Explanation> {
    let mut reasons = vec![
        Explanation::new(
            "DISPOSABLE_INCOME",
            ReasonEffect::Neutral,
            SFS_DISPOSABLE_RULE,
            "What is left each month is income less fixed costs, flexible costs and savings, \
         using the figures the customer gave.",
        )
        .param("total_income", total_income)
        .param("total_fixed", total_fixed)
        .param("total_flexible", total_flexible)
        .param("savings_allowance", savings_allowance)
        .param("disposable_income", disposable_income),
    ];

    if statement.income.is_empty() {
        reasons.push(Explanation::new(
            "NO_INCOME_DECLARED",
            ReasonEffect::Neutral,
            SFS_DISPOSABLE_RULE,
            "No income was declared. If any income starts or was missed, the statement can be \
             updated at any time.",
        ));
    }
    if !flagged.is_empty() {
        reasons.push(
            Explanation::new(
                "FLEXIBLE_COSTS_COUNTED_AS_DECLARED",
                ReasonEffect::Neutral,
                SFS_TRIGGER_RULE,
                "Some flexible costs are above the usual figures. They are counted as declared \
                 and are flagged for a conversation, never silently cut.",
            )
            .param("flagged_categories", flagged.len()),
        );
    }
    match disposable_income.signum() {
        0 => reasons.push(
            Explanation::new(
                "NO_DISPOSABLE_INCOME",
                ReasonEffect::Neutral,
                SFS_DISPOSABLE_RULE,
                "There is no money left over each month after essential costs; we will not ask \
                 for a payment you cannot afford.",
            )
            .param("disposable_income", disposable_income),
        ),
        -1 => reasons.push(
            Explanation::new(
                "NEGATIVE_DISPOSABLE_INCOME",
                ReasonEffect::Neutral,
                SFS_DISPOSABLE_RULE,
                "Essential costs are more than the money coming in each month; we will not ask \
                 for a payment you cannot afford, and free debt advice can help with the gap.",
            )
            .param("disposable_income", disposable_income)
            .param("monthly_shortfall", disposable_income.unsigned_abs()),
        ),
        _ => {}
    }
    reasons
}

/// The trigger figures for a statement in the currency `currency_code` (ISO 4217): the
/// configured (illustrative) SFS table for GBP; other currencies have none configured yet, so
/// nothing is flagged and [`assess_in_currency`] says so.
pub fn trigger_figures_for(currency_code: &str) -> TriggerFigures {
    if currency_code == "GBP" {
        return TriggerFigures::sfs_default_gbp();
    }
    let unlimited = CategoryFigures {
        communications_and_leisure: i64::MAX / 8,
        food_and_housekeeping: i64::MAX / 8,
        personal: i64::MAX / 8,
    };
    TriggerFigures::new(
        format!("none-configured-{currency_code}"),
        [(1, 0, unlimited)],
        CategoryFigures::default(),
        CategoryFigures::default(),
    )
    .unwrap_or_else(|_| TriggerFigures::sfs_default_gbp())
}

/// Assesses a statement in the currency `currency_code` against its trigger figures
/// ([`trigger_figures_for`]); where none are configured, a reason says flexible costs were not
/// compared with any.
pub fn assess_in_currency(
    statement: &Statement,
    currency_code: &str,
) -> Result<Assessment, AffordabilityError> {
    let mut assessment = assess(statement, &trigger_figures_for(currency_code))?;
    if currency_code != "GBP" {
        assessment.reasons.push(Explanation::new(
            "NO_TRIGGER_FIGURES",
            ReasonEffect::Neutral,
            "UK Standard Financial Statement",
            format!(
                "No trigger figures are configured for {currency_code}; flexible costs were not compared with any."
            ),
        ));
    }
    Ok(assessment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn income(monthly: i64) -> IncomeLine {
        IncomeLine {
            category: IncomeCategory::Earnings,
            description: "wages".into(),
            monthly,
        }
    }

    fn fixed(monthly: i64) -> FixedCost {
        FixedCost {
            category: FixedCostCategory::HomeAndContents,
            description: "rent".into(),
            monthly,
        }
    }

    fn flexible(category: FlexibleCostCategory, monthly: i64) -> FlexibleCost {
        FlexibleCost {
            category,
            description: String::new(),
            monthly,
        }
    }

    fn single_adult() -> Household {
        Household {
            adults: 1,
            children: 0,
            vehicles: 0,
        }
    }

    fn codes(reasons: &[Explanation]) -> Vec<&str> {
        reasons.iter().map(|r| r.code.as_ref()).collect()
    }

    #[test]
    fn totals_and_disposable_income_use_declared_figures() {
        let statement = Statement {
            household: single_adult(),
            income: vec![income(180_000), income(20_000)],
            fixed: vec![fixed(75_000), fixed(15_000)],
            flexible: vec![
                flexible(FlexibleCostCategory::FoodAndHousekeeping, 30_000),
                flexible(FlexibleCostCategory::CommunicationsAndLeisure, 9_000),
            ],
            savings_allowance: 2_000,
        };
        let a = assess(&statement, &TriggerFigures::sfs_default_gbp()).expect("valid statement");
        assert_eq!(a.total_income, 200_000);
        assert_eq!(a.total_fixed, 90_000);
        assert_eq!(a.total_flexible, 39_000);
        assert_eq!(a.savings_allowance, 2_000);
        assert_eq!(a.disposable_income, 200_000 - 90_000 - 39_000 - 2_000);
        assert!(a.flagged.is_empty());
        assert_eq!(a.figures_version, "sfs-2024-illustrative");
        assert_eq!(codes(&a.reasons), vec!["DISPOSABLE_INCOME"]);
    }

    #[test]
    fn flags_only_strictly_above_the_trigger_and_never_cuts() {
        let statement = Statement {
            household: single_adult(),
            income: vec![income(300_000)],
            fixed: vec![],
            flexible: vec![
                // Exactly at the trigger: not flagged.
                flexible(FlexibleCostCategory::FoodAndHousekeeping, 35_000),
                // Two lines in one category add up to 8_001 > 8_000: flagged by 1.
                flexible(FlexibleCostCategory::Personal, 5_000),
                flexible(FlexibleCostCategory::Personal, 3_001),
                flexible(FlexibleCostCategory::CommunicationsAndLeisure, 25_000),
            ],
            savings_allowance: 0,
        };
        let a = assess(&statement, &TriggerFigures::sfs_default_gbp()).expect("valid statement");
        let flagged: Vec<_> = a
            .flagged
            .iter()
            .map(|f| (f.category, f.declared, f.trigger_figure, f.excess))
            .collect();
        assert_eq!(
            flagged,
            vec![
                (
                    FlexibleCostCategory::CommunicationsAndLeisure,
                    25_000,
                    10_000,
                    15_000
                ),
                (FlexibleCostCategory::Personal, 8_001, 8_000, 1),
            ]
        );
        assert!(
            a.flagged
                .iter()
                .all(|f| f.explanation.code == "FLEXIBLE_COST_ABOVE_TRIGGER")
        );
        assert!(
            a.flagged
                .iter()
                .all(|f| f.explanation.rule_ref == SFS_TRIGGER_RULE)
        );
        // Disposable income uses the declared 68_001, not the trigger figures.
        assert_eq!(a.disposable_income, 300_000 - 35_000 - 8_001 - 25_000);
        assert!(codes(&a.reasons).contains(&"FLEXIBLE_COSTS_COUNTED_AS_DECLARED"));
    }

    #[test]
    fn trigger_figures_scale_with_the_household() {
        let t = TriggerFigures::sfs_default_gbp();
        let food = |adults, children| {
            t.for_household(&Household {
                adults,
                children,
                vehicles: 0,
            })
            .expect("any household has figures")
            .food_and_housekeeping
        };
        assert_eq!(food(1, 0), 35_000);
        // Zero adults reads as the customer alone.
        assert_eq!(food(0, 0), 35_000);
        assert_eq!(food(2, 0), 55_000);
        assert_eq!(food(1, 2), 35_000 + 2 * 12_000);
        assert_eq!(food(2, 3), 55_000 + 3 * 12_000);
        assert_eq!(food(4, 1), 55_000 + 2 * 20_000 + 12_000);
        assert_eq!(food(u8::MAX, u8::MAX), 55_000 + 253 * 20_000 + 255 * 12_000);

        // The same spending is flagged for one adult and not for a family of four.
        let spending = vec![flexible(FlexibleCostCategory::FoodAndHousekeeping, 60_000)];
        let mut statement = Statement {
            household: single_adult(),
            income: vec![income(250_000)],
            flexible: spending,
            ..Statement::default()
        };
        assert_eq!(assess(&statement, &t).expect("valid").flagged.len(), 1);
        statement.household = Household {
            adults: 2,
            children: 2,
            vehicles: 1,
        };
        assert!(assess(&statement, &t).expect("valid").flagged.is_empty());
    }

    #[test]
    fn a_configured_table_uses_its_rows_then_increments() {
        let f = |c, fh, p| CategoryFigures {
            communications_and_leisure: c,
            food_and_housekeeping: fh,
            personal: p,
        };
        let t = TriggerFigures::new(
            "custom-1",
            [
                (1, 0, f(1, 10, 100)),
                (1, 1, f(2, 20, 200)),
                (2, 2, f(5, 50, 500)),
            ],
            f(1, 1, 1),
            f(3, 3, 3),
        )
        .expect("valid table");
        let at = |adults, children| {
            t.for_household(&Household {
                adults,
                children,
                vehicles: 0,
            })
            .expect("figures")
        };
        assert_eq!(at(1, 1), f(2, 20, 200));
        // (2, 1) is not a row: start from (1, 1) and add one adult.
        assert_eq!(at(2, 1), f(3, 21, 201));
        // (3, 4): start from (2, 2), add one adult and two children.
        assert_eq!(at(3, 4), f(12, 57, 507));
        assert_eq!(t.version(), "custom-1");

        assert!(TriggerFigures::new("x", [(2, 0, f(1, 1, 1))], f(0, 0, 0), f(0, 0, 0)).is_err());
        assert!(TriggerFigures::new("x", [(1, 0, f(-1, 1, 1))], f(0, 0, 0), f(0, 0, 0)).is_err());
        assert!(TriggerFigures::new(" ", [(1, 0, f(1, 1, 1))], f(0, 0, 0), f(0, 0, 0)).is_err());
        assert!(
            TriggerFigures::new(
                "x",
                [(1, 0, f(1, 1, 1)), (1, 0, f(2, 2, 2))],
                f(0, 0, 0),
                f(0, 0, 0)
            )
            .is_err()
        );
    }

    #[test]
    fn a_negative_line_is_rejected_with_its_section_and_index() {
        let t = TriggerFigures::sfs_default_gbp();
        let base = Statement {
            household: single_adult(),
            income: vec![income(100_000)],
            fixed: vec![fixed(10_000), fixed(20_000), fixed(-1)],
            ..Statement::default()
        };
        assert_eq!(
            assess(&base, &t),
            Err(AffordabilityError::NegativeLine {
                section: "fixed_costs",
                index: 2
            })
        );

        let s = Statement {
            income: vec![income(1), income(-5)],
            ..base.clone()
        };
        assert_eq!(
            assess(&s, &t),
            Err(AffordabilityError::NegativeLine {
                section: "income",
                index: 1
            })
        );

        let s = Statement {
            fixed: vec![],
            flexible: vec![flexible(FlexibleCostCategory::Personal, -100)],
            ..base.clone()
        };
        assert_eq!(
            assess(&s, &t),
            Err(AffordabilityError::NegativeLine {
                section: "flexible_costs",
                index: 0
            })
        );

        let s = Statement {
            fixed: vec![],
            savings_allowance: -1,
            ..base
        };
        let err = assess(&s, &t).expect_err("negative savings");
        assert_eq!(
            err,
            AffordabilityError::NegativeLine {
                section: "savings_allowance",
                index: 0
            }
        );
        assert_eq!(
            err.to_string(),
            "savings_allowance[0]: a monthly amount must not be negative"
        );
    }

    #[test]
    fn a_negative_disposable_income_is_explained_kindly() {
        let statement = Statement {
            household: single_adult(),
            income: vec![],
            fixed: vec![fixed(60_000)],
            flexible: vec![flexible(FlexibleCostCategory::FoodAndHousekeeping, 20_000)],
            savings_allowance: 0,
        };
        let a = assess(&statement, &TriggerFigures::sfs_default_gbp())
            .expect("empty income is allowed");
        assert_eq!(a.total_income, 0);
        assert_eq!(a.disposable_income, -80_000);
        assert_eq!(
            codes(&a.reasons),
            vec![
                "DISPOSABLE_INCOME",
                "NO_INCOME_DECLARED",
                "NEGATIVE_DISPOSABLE_INCOME"
            ]
        );
        let negative = &a.reasons[2];
        assert!(
            negative
                .message
                .contains("we will not ask for a payment you cannot afford")
        );
        assert!(
            negative
                .params
                .contains(&("monthly_shortfall".into(), "80000".into()))
        );
    }

    #[test]
    fn zero_disposable_income_is_explained() {
        let statement = Statement {
            household: single_adult(),
            income: vec![income(50_000)],
            fixed: vec![fixed(50_000)],
            ..Statement::default()
        };
        let a = assess(&statement, &TriggerFigures::sfs_default_gbp()).expect("valid");
        assert_eq!(a.disposable_income, 0);
        let zero = a
            .reasons
            .iter()
            .find(|r| r.code == "NO_DISPOSABLE_INCOME")
            .expect("explained");
        assert_eq!(
            zero.message,
            "There is no money left over each month after essential costs; we will not ask for \
             a payment you cannot afford."
        );
    }

    #[test]
    fn overflowing_totals_are_errors_not_panics() {
        let statement = Statement {
            household: single_adult(),
            income: vec![income(i64::MAX), income(1)],
            ..Statement::default()
        };
        assert_eq!(
            assess(&statement, &TriggerFigures::sfs_default_gbp()),
            Err(AffordabilityError::Overflow("income"))
        );
        let statement = Statement {
            household: single_adult(),
            income: vec![],
            fixed: vec![fixed(i64::MAX)],
            savings_allowance: 1,
            ..Statement::default()
        };
        assert_eq!(
            assess(&statement, &TriggerFigures::sfs_default_gbp()),
            Err(AffordabilityError::Overflow("disposable income"))
        );
    }
}
