//! What referrals needs to know about a customer: how long they have been with us and whether
//! they are in good standing (read from profiles).

use jiff::civil::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub customer_since: Date,
    /// Active with the bank (not closed, merged or erased). Arrears from plans join this with the
    /// integration issue.
    pub good_standing: bool,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// Normalised postal addresses.
    pub addresses: Vec<String>,
}

impl Member {
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
            good_standing: true,
            emails: vec![],
            phones: vec![],
            addresses: vec![],
        };
        assert_eq!(member.tenure_months(jiff::civil::date(2026, 3, 14)), 5);
        assert_eq!(member.tenure_months(jiff::civil::date(2026, 3, 15)), 6);
    }
}
