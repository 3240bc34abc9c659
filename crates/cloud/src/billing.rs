//! EC2 Linux per-second billing.

use autoscale_sim_engine::SimDuration;

use crate::money::{Cost, Price};

/// Minimum billed time of an EC2 Linux instance, in seconds (AWS: per-second billing with a
/// one-minute minimum for Linux on-demand and spot instances).
pub const MINIMUM_BILLED_SECS: u64 = 60;

/// Seconds billed for an instance that ran for `running`: rounded up to whole seconds, and at
/// least the one-minute minimum.
pub fn billed_secs(running: SimDuration) -> u64 {
    running.as_millis().div_ceil(1000).max(MINIMUM_BILLED_SECS)
}

/// Cost of one instance at a constant `price` that ran for `running`.
pub fn instance_cost(price: Price, running: SimDuration) -> Cost {
    price.cost_for_secs(billed_secs(running))
}

#[cfg(test)]
mod tests {
    use super::*;

    // m5.large in us-east-1: 0.096 $/h = 96,000 micro-dollars per hour.
    const M5_LARGE: Price = Price(96_000);

    #[test]
    fn ninety_seconds_cost_ninety_seconds() {
        // 0.096 $/h × 90 s / 3600 s = 0.0024 $ = 2,400 micro-dollars.
        let cost = instance_cost(M5_LARGE, SimDuration::from_secs(90));
        assert_eq!(cost.micro_usd(), 2_400);
    }

    #[test]
    fn thirty_seconds_cost_the_minimum() {
        // Billed as 60 s: 0.096 × 60 / 3600 = 0.0016 $ = 1,600 micro-dollars.
        let cost = instance_cost(M5_LARGE, SimDuration::from_secs(30));
        assert_eq!(cost.micro_usd(), 1_600);
        assert_eq!(billed_secs(SimDuration::from_secs(30)), 60);
    }

    #[test]
    fn partial_seconds_round_up() {
        assert_eq!(billed_secs(SimDuration::from_millis(90_001)), 91);
        assert_eq!(billed_secs(SimDuration::from_millis(90_000)), 90);
    }
}
