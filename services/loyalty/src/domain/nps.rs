//! Net Promoter Score with its 95 % margin of error (DESIGN.md, "Rules with numbers": NPS =
//! %promoters (9–10) − %detractors (0–6), with n and a 95 % margin of error).
//!
//! The margin of error treats each answer as +100 (promoter), 0 (passive) or −100 (detractor), so
//! the NPS is their mean and its variance is `p + d − (p − d)²` (in units of 100², with `p` and `d`
//! the promoter and detractor shares). The margin is `1.96 · 100 · √(variance / n)`, the normal
//! approximation every NPS calculator uses; it is 0 when n = 0 and when every answer is the same.

/// z for a two-sided 95 % interval.
const Z_95: f64 = 1.96;

/// Where one 0–10 answer falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// 9–10.
    Promoter,
    /// 7–8.
    Passive,
    /// 0–6; every detractor answer opens a follow-up.
    Detractor,
}

/// An NPS answer outside 0–10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an NPS answer is 0–10, not {0}")]
pub struct OutOfRange(pub i32);

impl Category {
    pub fn of(score: i32) -> Result<Self, OutOfRange> {
        match score {
            9..=10 => Ok(Self::Promoter),
            7..=8 => Ok(Self::Passive),
            0..=6 => Ok(Self::Detractor),
            other => Err(OutOfRange(other)),
        }
    }
}

/// The NPS of a set of answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nps {
    pub promoters: u32,
    pub passives: u32,
    pub detractors: u32,
    /// −100..=100; 0 when there are no answers.
    pub score: f64,
    /// 95 % margin of error in NPS points; 0 when there are no answers.
    pub margin_of_error: f64,
}

impl Nps {
    /// From the counts of each category.
    pub fn from_counts(promoters: u32, passives: u32, detractors: u32) -> Self {
        let n = f64::from(promoters) + f64::from(passives) + f64::from(detractors);
        let (score, margin_of_error) = if n == 0.0 {
            (0.0, 0.0)
        } else {
            let p = f64::from(promoters) / n;
            let d = f64::from(detractors) / n;
            // Clamped at 0: rounding can make an all-equal sample a hair negative.
            let variance = (p + d - (p - d).powi(2)).max(0.0);
            (100.0 * (p - d), Z_95 * 100.0 * (variance / n).sqrt())
        };
        Self {
            promoters,
            passives,
            detractors,
            score,
            margin_of_error,
        }
    }

    /// From raw 0–10 answers; one answer out of range is an error, and nothing is counted.
    pub fn tally(answers: impl IntoIterator<Item = i32>) -> Result<Self, OutOfRange> {
        let (mut promoters, mut passives, mut detractors) = (0_u32, 0_u32, 0_u32);
        for answer in answers {
            match Category::of(answer)? {
                Category::Promoter => promoters += 1,
                Category::Passive => passives += 1,
                Category::Detractor => detractors += 1,
            }
        }
        Ok(Self::from_counts(promoters, passives, detractors))
    }

    /// Answers counted.
    pub fn n(&self) -> u32 {
        self.promoters + self.passives + self.detractors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn categories_follow_the_published_bands() {
        for (score, category) in [
            (0, Category::Detractor),
            (6, Category::Detractor),
            (7, Category::Passive),
            (8, Category::Passive),
            (9, Category::Promoter),
            (10, Category::Promoter),
        ] {
            assert_eq!(Category::of(score), Ok(category), "{score}");
        }
        assert_eq!(Category::of(11), Err(OutOfRange(11)));
        assert_eq!(Category::of(-1), Err(OutOfRange(-1)));
    }

    /// (promoters, passives, detractors), (NPS, margin of error).
    type Case = ((u32, u32, u32), (f64, f64));

    /// (promoters, passives, detractors) → (NPS, margin of error), worked by hand:
    /// p = P/n, d = D/n, NPS = 100(p − d), MoE = 1.96 · 100 · √((p + d − (p − d)²) / n).
    #[test]
    fn matches_the_hand_calculation() {
        let cases: &[Case] = &[
            // n = 0: nothing to say.
            ((0, 0, 0), (0.0, 0.0)),
            // All passives: NPS 0 and no spread.
            ((0, 12, 0), (0.0, 0.0)),
            // All promoters / all detractors: ±100, no spread.
            ((7, 0, 0), (100.0, 0.0)),
            ((0, 0, 3), (-100.0, 0.0)),
            // 50/30/20 of 100: NPS 30; variance 0.7 − 0.09 = 0.61; 1.96·100·√0.0061 = 15.308…
            ((50, 30, 20), (30.0, 15.308_089_364_777_04)),
            // 1 promoter, 1 detractor: NPS 0; variance 1; 1.96·100·√0.5 = 138.592…
            ((1, 0, 1), (0.0, 138.592_929_112_563_33)),
            // 200/100/100 of 400: NPS 25; variance 0.75 − 0.0625 = 0.6875; 1.96·100·√(0.6875/400) = 8.125…
            ((200, 100, 100), (25.0, 8.125_730_736_370_73)),
            // 1 passive: NPS 0, MoE 0.
            ((0, 1, 0), (0.0, 0.0)),
        ];
        for &((promoters, passives, detractors), (score, moe)) in cases {
            let nps = Nps::from_counts(promoters, passives, detractors);
            assert!(
                close(nps.score, score),
                "{promoters}/{passives}/{detractors}: {}",
                nps.score
            );
            assert!(
                close(nps.margin_of_error, moe),
                "{promoters}/{passives}/{detractors}: {}",
                nps.margin_of_error
            );
            assert_eq!(nps.n(), promoters + passives + detractors);
        }
    }

    #[test]
    fn tally_counts_raw_answers_and_refuses_one_out_of_range() -> Result<(), OutOfRange> {
        let nps = Nps::tally([10, 9, 8, 7, 6, 0, 10])?;
        assert_eq!((nps.promoters, nps.passives, nps.detractors), (3, 2, 2));
        assert!(close(nps.score, 100.0 / 7.0));
        assert_eq!(Nps::tally([10, 12, 3]), Err(OutOfRange(12)));
        Ok(())
    }
}
