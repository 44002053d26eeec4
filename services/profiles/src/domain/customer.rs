//! A customer: who they are, how to reach them, how long they have been with us.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use serde::{Deserialize, Serialize};

use super::contact::{Email, Locale, Phone, TimeZoneName};
use super::names::fold_for_search;
use super::preferences::ContactPreferences;
use super::vulnerability::VulnerabilityRecord;

/// Names are stored byte-exact; this bounds what one name may hold.
pub const MAX_NAME_CHARS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerStatus {
    Active,
    /// Holds no products any more; tenure stops.
    Closed,
    /// Merged into another customer, who answers for this id.
    Merged,
    /// Personal data pseudonymised.
    Erased,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Closed => "closed",
            Self::Merged => "merged",
            Self::Erased => "erased",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "active" => Self::Active,
            "closed" => Self::Closed,
            "merged" => Self::Merged,
            "erased" => Self::Erased,
            _ => return None,
        })
    }
}

/// An email address or phone number and what we know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPoint<T> {
    pub value: T,
    pub verified: bool,
    pub primary: bool,
}

/// A postal address; text in any script, kept byte-exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub locality: String,
    pub region: String,
    pub postal_code: String,
    pub country_code: String,
    pub verified: bool,
    pub primary: bool,
}

/// A reference held by another system, e.g. core banking's customer number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExternalRef {
    pub system: String,
    pub external_id: String,
}

/// Everything about a customer that callers set (through create, upsert and update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub legal_name: String,
    /// Empty: address them by their legal name.
    pub preferred_name: String,
    pub locale: Locale,
    pub time_zone: TimeZoneName,
    pub emails: Vec<ContactPoint<Email>>,
    pub phones: Vec<ContactPoint<Phone>>,
    pub addresses: Vec<PostalAddress>,
    /// Tenure start, a date in the customer's calendar.
    pub customer_since: Date,
    pub status: CustomerStatus,
    pub external_refs: Vec<ExternalRef>,
}

impl Profile {
    /// What name search matches: both names, folded (case and diacritics ignored).
    pub fn search_name(&self) -> String {
        fold_for_search(&format!("{} {}", self.legal_name, self.preferred_name))
    }

    pub fn apply(&mut self, value: FieldValue) {
        match value {
            FieldValue::LegalName(v) => self.legal_name = v,
            FieldValue::PreferredName(v) => self.preferred_name = v,
            FieldValue::Locale(v) => self.locale = v,
            FieldValue::TimeZone(v) => self.time_zone = v,
            FieldValue::Emails(v) => self.emails = v,
            FieldValue::Phones(v) => self.phones = v,
            FieldValue::Addresses(v) => self.addresses = v,
            FieldValue::CustomerSince(v) => self.customer_since = v,
            FieldValue::Status(v) => self.status = v,
            FieldValue::ExternalRefs(v) => self.external_refs = v,
        }
    }
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: Id,
    pub profile: Profile,
    pub merged_into: Option<Id>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Loaded for the FULL view and above.
    pub preferences: Option<ContactPreferences>,
    /// Loaded only for the view that asks for it.
    pub vulnerability: Option<VulnerabilityRecord>,
}

/// How much of a customer a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum View {
    /// Names, locale, time zone, status, tenure, external references.
    Basic,
    /// Basic plus contact points and contact preferences.
    Full,
    /// Full plus vulnerability: only when asked for explicitly.
    WithVulnerability,
}

/// The fields an update mask may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerField {
    LegalName,
    PreferredName,
    Locale,
    TimeZone,
    Emails,
    Phones,
    Addresses,
    CustomerSince,
    Status,
    ExternalRefs,
}

impl CustomerField {
    pub const ALL: [Self; 10] = [
        Self::LegalName,
        Self::PreferredName,
        Self::Locale,
        Self::TimeZone,
        Self::Emails,
        Self::Phones,
        Self::Addresses,
        Self::CustomerSince,
        Self::Status,
        Self::ExternalRefs,
    ];

    /// The field-mask path, which is also the field's name in the `Customer` message.
    pub fn path(self) -> &'static str {
        match self {
            Self::LegalName => "legal_name",
            Self::PreferredName => "preferred_name",
            Self::Locale => "locale",
            Self::TimeZone => "time_zone",
            Self::Emails => "emails",
            Self::Phones => "phones",
            Self::Addresses => "addresses",
            Self::CustomerSince => "customer_since",
            Self::Status => "status",
            Self::ExternalRefs => "external_refs",
        }
    }

    pub fn parse_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.path() == path)
    }
}

/// A new value for one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    LegalName(String),
    PreferredName(String),
    Locale(Locale),
    TimeZone(TimeZoneName),
    Emails(Vec<ContactPoint<Email>>),
    Phones(Vec<ContactPoint<Phone>>),
    Addresses(Vec<PostalAddress>),
    CustomerSince(Date),
    Status(CustomerStatus),
    ExternalRefs(Vec<ExternalRef>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_path_that_parses_back() {
        for field in CustomerField::ALL {
            assert_eq!(CustomerField::parse_path(field.path()), Some(field));
        }
        assert_eq!(CustomerField::parse_path("customer_id"), None);
        assert_eq!(CustomerField::parse_path("vulnerability"), None);
    }

    #[test]
    fn status_text_round_trips() {
        for status in [
            CustomerStatus::Active,
            CustomerStatus::Closed,
            CustomerStatus::Merged,
            CustomerStatus::Erased,
        ] {
            assert_eq!(CustomerStatus::parse(status.as_str()), Some(status));
        }
    }
}
