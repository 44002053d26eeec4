//! Instants from wall-clock readings in the customer's zone, across daylight-saving changes, and
//! labels for reasons.

use super::*;

/// The first instant after `after` at which the wall clock in `zone` reads `wall` or later.
/// Unambiguous: that reading. In a fold (clocks go back) the earlier reading that is still
/// after `after`. In a gap (clocks go forward, `wall` never shown): the transition itself,
/// where the clock jumps past `wall`.
pub(super) fn first_instant_at(
    zone: &TimeZone,
    wall: DateTime,
    after: Timestamp,
) -> Option<Timestamp> {
    let candidates = match zone.to_ambiguous_timestamp(wall).offset() {
        AmbiguousOffset::Unambiguous { offset } => [offset.to_timestamp(wall).ok(), None],
        AmbiguousOffset::Fold {
            before,
            after: later,
        } => [
            before.to_timestamp(wall).ok(),
            later.to_timestamp(wall).ok(),
        ],
        AmbiguousOffset::Gap { after: later, .. } => {
            // Read with the later offset, `wall` falls just before the transition.
            let before_gap = later.to_timestamp(wall).ok();
            [
                before_gap
                    .and_then(|t| zone.following(t).next())
                    .map(|tr| tr.timestamp()),
                None,
            ]
        }
    };
    candidates
        .into_iter()
        .flatten()
        .filter(|t| *t > after)
        .min()
}

/// The first instant of local `day`.
pub(super) fn start_of_local_day(zone: &TimeZone, day: Date) -> Option<Timestamp> {
    first_instant_at(zone, day.to_datetime(Time::midnight()), Timestamp::MIN)
}

pub(super) fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Plain words for a channel, for messages.
pub(super) fn channel_label(channel: Channel) -> &'static str {
    match channel {
        Channel::Unspecified => "an unspecified channel",
        Channel::Phone => "phone",
        Channel::Sms => "text message",
        Channel::Email => "email",
        Channel::Letter => "letter",
        Channel::InApp => "in-app message",
        Channel::Push => "push notification",
        Channel::Messaging => "messaging app",
        Channel::WebChat => "web chat",
        Channel::Web => "online banking",
        Channel::Branch => "branch",
        Channel::Visit => "visit",
        Channel::Video => "video call",
    }
}

pub(super) fn protection_label(kind: ProtectionKind) -> &'static str {
    match kind {
        ProtectionKind::BreathingSpace => "a breathing space",
        ProtectionKind::MentalHealthCrisis => "a mental-health crisis breathing space",
        ProtectionKind::Dispute => "a dispute",
        ProtectionKind::VulnerabilityHold => "a vulnerability hold",
        ProtectionKind::Unspecified => "a protected state",
    }
}
