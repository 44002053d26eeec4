//! What referrals needs to know about a customer: how long they have been with us (profiles) and
//! whether they are in good standing (plans' published verdict with profiles' status).

use jiff::civil::Date;

use super::standing::Standing;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub customer_since: Date,
    /// Profiles' status is ACTIVE (not closed, merged or erased).
    pub active: bool,
    /// Good standing now (`domain::standing`).
    pub standing: Standing,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// Normalised postal addresses.
    pub addresses: Vec<String>,
}

impl Member {
    pub fn good_standing(&self) -> bool {
        self.standing.good
    }

    /// Whole months of tenure on `today`.
    pub fn tenure_months(&self, today: Date) -> i32 {
        let months = (i32::from(today.year()) - i32::from(self.customer_since.year())) * 12
            + i32::from(today.month())
            - i32::from(self.customer_since.month());
        if today.day() < self.customer_since.day() {
            months - 1
        } else {
            months
        }
    }

    pub fn tenure_years(&self, today: Date) -> f64 {
        f64::from(self.tenure_months(today).max(0)) / 12.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenure_counts_whole_months() {
        let member = Member {
            customer_since: jiff::civil::date(2025, 9, 15),
            active: true,
            standing: Standing {
                good: true,
                since: None,
                notes: vec![],
            },
            emails: vec![],
            phones: vec![],
            addresses: vec![],
        };
        assert_eq!(member.tenure_months(jiff::civil::date(2026, 3, 14)), 5);
        assert_eq!(member.tenure_months(jiff::civil::date(2026, 3, 15)), 6);
    }
}
