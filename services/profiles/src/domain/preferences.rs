//! How the customer likes to be reached, and when not at all.

use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use rapport_proto::common::v1::Channel;

/// A span of local time the customer asked not to be contacted in; `end` before `start` wraps
/// past midnight. No days means every day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
    pub days: Vec<Weekday>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPreferences {
    /// Most preferred first.
    pub preferred_channels: Vec<Channel>,
    pub quiet_hours: Vec<QuietHours>,
    /// Channels the customer refused.
    pub do_not_contact_channels: Vec<Channel>,
    /// No contact at all except what law requires.
    pub do_not_contact: bool,
    pub updated_at: Timestamp,
}
