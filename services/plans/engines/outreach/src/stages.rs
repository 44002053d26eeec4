//! Delinquency stages: how far behind a debt is, in the stages collections contact and the
//! templates speak of (first contact, early, mid, late), from its days past due.

use rapport_proto::plans::v1::DelinquencyStage;

/// The stage for `days_past_due`, given the first day of the early, mid, late and severe stages.
pub fn delinquency_stage(days_past_due: u32, thresholds: [u32; 4]) -> DelinquencyStage {
    let [early, mid, late, severe] = thresholds;
    match days_past_due {
        d if d >= severe => DelinquencyStage::Severe,
        d if d >= late => DelinquencyStage::Late,
        d if d >= mid => DelinquencyStage::Mid,
        d if d >= early => DelinquencyStage::Early,
        _ => DelinquencyStage::Current,
    }
}

/// The days past due `stage` spans, as [`delinquency_stage`] draws them: from its first day up
/// to, not including, the next stage's first day (`None`: no end). `None` for UNSPECIFIED, which
/// is no stage. Lets a list select a stage in SQL without a second copy of the thresholds.
pub fn days_past_due_of(
    stage: DelinquencyStage,
    thresholds: [u32; 4],
) -> Option<(u32, Option<u32>)> {
    let [early, mid, late, severe] = thresholds;
    match stage {
        DelinquencyStage::Unspecified => None,
        DelinquencyStage::Current => Some((0, Some(early))),
        DelinquencyStage::Early => Some((early, Some(mid))),
        DelinquencyStage::Mid => Some((mid, Some(late))),
        DelinquencyStage::Late => Some((late, Some(severe))),
        DelinquencyStage::Severe => Some((severe, None)),
    }
}

#[cfg(test)]
mod tests {
    use rapport_proto::plans::v1::TemplateStage;

    use super::*;

    #[test]
    fn stages_follow_the_thresholds() {
        let t = [1, 30, 90, 180];
        assert_eq!(delinquency_stage(0, t), DelinquencyStage::Current);
        assert_eq!(delinquency_stage(1, t), DelinquencyStage::Early);
        assert_eq!(delinquency_stage(29, t), DelinquencyStage::Early);
        assert_eq!(delinquency_stage(30, t), DelinquencyStage::Mid);
        assert_eq!(delinquency_stage(90, t), DelinquencyStage::Late);
        assert_eq!(delinquency_stage(365, t), DelinquencyStage::Severe);
    }

    #[test]
    fn each_stage_spans_exactly_the_days_that_are_in_it() {
        let t = [1, 30, 90, 180];
        assert_eq!(days_past_due_of(DelinquencyStage::Unspecified, t), None);
        for days in 0..400 {
            let stage = delinquency_stage(days, t);
            for candidate in [
                DelinquencyStage::Current,
                DelinquencyStage::Early,
                DelinquencyStage::Mid,
                DelinquencyStage::Late,
                DelinquencyStage::Severe,
            ] {
                let (from, until) = days_past_due_of(candidate, t).expect("a stage spans days");
                let inside = days >= from && until.is_none_or(|u| days < u);
                assert_eq!(inside, stage == candidate, "{days} days, {candidate:?}");
            }
        }
    }

    // The account stages against the template stages: a collections template waits for
    // something past due.
    #[test]
    fn every_collections_template_stage_waits_for_something_past_due() {
        let thresholds = [1, 30, 90, 180];
        let accounts = [
            (DelinquencyStage::Current, 0),
            (DelinquencyStage::Early, 10),
            (DelinquencyStage::Mid, 45),
            (DelinquencyStage::Late, 100),
            (DelinquencyStage::Severe, 200),
        ];
        let template_stages = [
            (TemplateStage::FirstContact, true),
            (TemplateStage::Early, true),
            (TemplateStage::Mid, true),
            (TemplateStage::Late, true),
            (TemplateStage::Service, false),
        ];
        for (account_stage, days) in accounts {
            assert_eq!(delinquency_stage(days, thresholds), account_stage);
            let past_due = days > 0;
            for (template_stage, collections) in template_stages {
                let refusal = crate::templates::stage_refusal(template_stage, past_due);
                assert_eq!(
                    refusal.is_some(),
                    collections && account_stage == DelinquencyStage::Current,
                    "{account_stage:?} x {template_stage:?}"
                );
                if let Some(refusal) = refusal {
                    assert_eq!(refusal.code, "NOTHING_PAST_DUE");
                }
            }
        }
        // Every shipped template's stage is in the table.
        for template in crate::templates::shipped() {
            assert!(
                template_stages.iter().any(|(s, _)| *s == template.stage),
                "{}",
                template.id
            );
        }
    }
}
