//! The spot market: prices per offering over time, interruptions per spot pool, and windows of
//! insufficient capacity.
//!
//! Prices are a model, not data: each pool (instance type × zone) starts at a discount from the
//! on-demand price set per category (defaults below, chosen to match the typical 55–70 % spot
//! savings AWS advertises) and moves by a bounded random walk every `change_interval`.
//! Interruptions follow the frequency bands of AWS's Spot Instance Advisor: a pool in the
//! "<5 %" band loses about 2.5 % of its instances per month, and so on. Every pool draws its
//! price walk and its interruption times from streams named after the pool, so every policy of a
//! comparison faces the same market (common random numbers).
//!
//! Shortages are windows the scenario declares ([`CapacityWindow`]) or spells of a random
//! process ([`ShortageProcess`]): Poisson arrivals per pool, each spell lasting a random time,
//! drawn from streams named after the process and the pool, so they too are the same for every
//! policy. Rebalance recommendations, when enabled, reach a pool's instances a fixed lead time
//! before each of its interruptions.

use std::collections::BTreeMap;

use autoscale_sim_engine::{RngStreams, SimDuration, SimRng, SimTime};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, InstanceTypeIndex};
use crate::latency::LatencyModel;
use crate::money::{Cost, Price};

/// Interruption frequency bands of the AWS Spot Instance Advisor (share of a pool's instances
/// interrupted per month).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum InterruptionBand {
    /// Less than 5 % per month.
    #[default]
    Under5,
    /// 5 to 10 %.
    From5To10,
    /// 10 to 15 %.
    From10To15,
    /// 15 to 20 %.
    From15To20,
    /// More than 20 %.
    Over20,
}

impl InterruptionBand {
    /// Parses the Spot Instance Advisor's label (`<5%`, `5-10%`, `10-15%`, `15-20%`, `>20%`).
    pub fn parse(text: &str) -> Option<InterruptionBand> {
        match text {
            "<5%" => Some(InterruptionBand::Under5),
            "5-10%" => Some(InterruptionBand::From5To10),
            "10-15%" => Some(InterruptionBand::From10To15),
            "15-20%" => Some(InterruptionBand::From15To20),
            ">20%" => Some(InterruptionBand::Over20),
            _ => None,
        }
    }

    /// Share of instances interrupted per month: the band's midpoint (25 % for the open band).
    pub fn monthly_share(self) -> f64 {
        match self {
            InterruptionBand::Under5 => 0.025,
            InterruptionBand::From5To10 => 0.075,
            InterruptionBand::From10To15 => 0.125,
            InterruptionBand::From15To20 => 0.175,
            InterruptionBand::Over20 => 0.25,
        }
    }

    /// Interruption events per second for a pool: a monthly share `p` becomes the rate
    /// `-ln(1 - p) / 30 days` of a Poisson process.
    pub fn rate_per_second(self) -> f64 {
        -(1.0 - self.monthly_share()).ln() / (30.0 * 86_400.0)
    }
}

/// A window in which launches into matching pools fail with InsufficientInstanceCapacity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityWindow {
    /// Instance type name, or `None` for every type.
    pub instance_type: Option<String>,
    /// Zone, or `None` for every zone.
    pub zone: Option<String>,
    /// Whether the window hits spot (`true`) or on-demand (`false`) capacity.
    pub spot: bool,
    /// Start of the shortage.
    pub from: SimTime,
    /// End of the shortage.
    pub to: SimTime,
}

/// A random process of insufficient-capacity spells. In every pool (instance type × zone) it
/// matches, spells start as a Poisson process and each lasts a duration drawn from `duration`.
/// Overlapping spells merge. Each pool draws from its own stream, named after the process's
/// index, the capacity type and the pool.
#[derive(Clone, Debug, PartialEq)]
pub struct ShortageProcess {
    /// Instance type name, or `None` for every type.
    pub instance_type: Option<String>,
    /// Zone, or `None` for every zone.
    pub zone: Option<String>,
    /// Whether the spells hit spot (`true`) or on-demand (`false`) capacity.
    pub spot: bool,
    /// Mean time between the starts of two spells in one pool; above zero.
    pub mean_interval: SimDuration,
    /// Length of a spell.
    pub duration: LatencyModel,
}

impl ShortageProcess {
    fn matches(&self, instance_type: &str, zone: &str, spot: bool) -> bool {
        self.spot == spot
            && self
                .instance_type
                .as_deref()
                .is_none_or(|n| n == instance_type)
            && self.zone.as_deref().is_none_or(|z| z == zone)
    }
}

/// Settings of the spot market model.
#[derive(Clone, Debug, PartialEq)]
pub struct SpotSettings {
    /// Discount from on-demand per instance category (`c`, `m`, `r`, ...), as a share.
    pub discount_by_category: BTreeMap<String, f64>,
    /// Discount for categories not listed.
    pub default_discount: f64,
    /// Largest relative change of a pool's price at each step of its random walk.
    pub volatility: f64,
    /// Time between price changes.
    pub change_interval: SimDuration,
    /// Interruption band per instance family, such as `c5` or `m6i`.
    pub band_by_family: BTreeMap<String, InterruptionBand>,
    /// Interruption band of families not listed.
    pub default_band: InterruptionBand,
    /// Expected interruptions per instance and 30 days, per family, overriding the band: for
    /// stress tests beyond the Spot Instance Advisor's published bands.
    pub interruptions_per_month_by_family: BTreeMap<String, f64>,
    /// Time from an interruption notice to the instance's termination (AWS: 2 minutes).
    pub notice: SimDuration,
    /// Shortages declared as windows.
    pub capacity_windows: Vec<CapacityWindow>,
    /// Random shortage processes; none by default.
    pub shortage_processes: Vec<ShortageProcess>,
    /// How long before each interruption EC2 sends the pool's instances a rebalance
    /// recommendation; `None`, the default, sends none. AWS publishes no typical lead time,
    /// and the recommendation "can arrive along with the two-minute interruption notice"
    /// (EC2 User Guide, "EC2 instance rebalance recommendations"), so there is no default.
    pub rebalance_lead: Option<SimDuration>,
    /// Recorded prices per pool (instance type name, zone): each price holds from its time until
    /// the next; the first also holds before it. Pools listed here ignore the price model.
    pub history: BTreeMap<(String, String), Vec<(SimTime, Price)>>,
}

/// Maximum interruptions per instance and 30 days: one every 4.3 minutes, far beyond the Spot
/// Instance Advisor's highest band (over 20 % a month).
pub const MAX_INTERRUPTIONS_PER_MONTH: f64 = 10_000.0;

impl SpotSettings {
    /// Checks the settings that a scenario file checks too, and returns a message naming the
    /// first invalid one. Discounts and volatility are shares below 1, interruption rates at
    /// most [`MAX_INTERRUPTIONS_PER_MONTH`], and intervals positive.
    pub fn validate(&self) -> Result<(), String> {
        let share = |name: String, value: f64| {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                Err(format!(
                    "{name} {value} is invalid; expected a share from 0 up to but not including 1"
                ))
            }
        };
        for (category, discount) in &self.discount_by_category {
            share(format!("discount of category {category}"), *discount)?;
        }
        share("default_discount".into(), self.default_discount)?;
        share("volatility".into(), self.volatility)?;
        if self.change_interval == SimDuration::ZERO {
            return Err("change_interval is 0s; expected a positive duration such as 6h".into());
        }
        for (family, rate) in &self.interruptions_per_month_by_family {
            if !(0.0..=MAX_INTERRUPTIONS_PER_MONTH).contains(rate) {
                return Err(format!(
                    "interruptions per month of family {family} {rate} is invalid; expected a number from 0 to {MAX_INTERRUPTIONS_PER_MONTH}"
                ));
            }
        }
        if let Some(process) = self
            .shortage_processes
            .iter()
            .find(|p| p.mean_interval == SimDuration::ZERO)
        {
            return Err(format!(
                "a shortage process of {} has a mean interval of 0s; expected a positive duration",
                process.instance_type.as_deref().unwrap_or("every type")
            ));
        }
        Ok(())
    }
}

impl Default for SpotSettings {
    fn default() -> Self {
        SpotSettings {
            discount_by_category: [("c", 0.65), ("m", 0.60), ("r", 0.65), ("t", 0.60)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            default_discount: 0.60,
            volatility: 0.03,
            change_interval: SimDuration::from_hours(6),
            band_by_family: BTreeMap::new(),
            default_band: InterruptionBand::Under5,
            interruptions_per_month_by_family: BTreeMap::new(),
            notice: SimDuration::from_mins(2),
            capacity_windows: Vec::new(),
            shortage_processes: Vec::new(),
            rebalance_lead: None,
            history: BTreeMap::new(),
        }
    }
}

/// Price walk and interruption times of one pool, extended on demand.
#[derive(Debug)]
struct Pool {
    prices: Vec<Price>,
    price_rng: SimRng,
    interruptions: Vec<SimTime>,
    interruption_rng: SimRng,
    rate: f64,
}

/// Spells of one shortage process in one pool, extended on demand.
#[derive(Debug)]
struct ShortageSpells {
    rng: SimRng,
    /// Spells as (start, end), by start.
    spells: Vec<(SimTime, SimTime)>,
    /// The latest end among the spells up to each index, so that a lookup is a binary search.
    latest_end: Vec<SimTime>,
}

impl ShortageSpells {
    /// Draws spells until one starts after `t`.
    fn extend_past(&mut self, t: SimTime, process: &ShortageProcess) {
        let mean_ms = process.mean_interval.as_millis().max(1) as f64;
        while self.spells.last().is_none_or(|(start, _)| *start <= t) {
            let last_start = self.spells.last().map_or(0, |(start, _)| start.as_millis());
            let uniform: f64 = self.rng.random::<f64>();
            let gap = (-(1.0 - uniform).ln() * mean_ms).round() as u64;
            let start = SimTime(last_start.saturating_add(gap));
            let end = start + process.duration.sample(&mut self.rng);
            let latest = self.latest_end.last().map_or(end, |l| (*l).max(end));
            self.spells.push((start, end));
            self.latest_end.push(latest);
        }
    }

    /// Checks whether a spell covers `t`; the spells must reach past `t`.
    fn covers(&self, t: SimTime) -> bool {
        let started = self.spells.partition_point(|(start, _)| *start <= t);
        started > 0 && self.latest_end[started - 1] > t
    }
}

/// The spot market of one run.
#[derive(Debug)]
pub struct SpotMarket {
    settings: SpotSettings,
    streams: RngStreams,
    pools: BTreeMap<(InstanceTypeIndex, String), Pool>,
    /// Spells per (process index, instance type name, zone).
    shortages: BTreeMap<(usize, String, String), ShortageSpells>,
}

impl SpotMarket {
    /// A market for `settings`, drawing from streams of `seed`.
    pub fn new(settings: SpotSettings, seed: u64) -> Self {
        SpotMarket {
            settings,
            streams: RngStreams::new(seed),
            pools: BTreeMap::new(),
            shortages: BTreeMap::new(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &SpotSettings {
        &self.settings
    }

    /// Interruption band of an instance type.
    pub fn band(&self, catalog: &Catalog, instance_type: InstanceTypeIndex) -> InterruptionBand {
        let family = &catalog.get(instance_type).family;
        self.settings
            .band_by_family
            .get(family)
            .copied()
            .unwrap_or(self.settings.default_band)
    }

    fn pool(
        &mut self,
        catalog: &Catalog,
        instance_type: InstanceTypeIndex,
        zone: &str,
    ) -> &mut Pool {
        let family = &catalog.get(instance_type).family;
        let rate = match self.settings.interruptions_per_month_by_family.get(family) {
            Some(per_month) => per_month / (30.0 * 86_400.0),
            None => self.band(catalog, instance_type).rate_per_second(),
        };
        let settings = &self.settings;
        let streams = &self.streams;
        self.pools
            .entry((instance_type, zone.to_string()))
            .or_insert_with(|| {
                let it = catalog.get(instance_type);
                let discount = settings
                    .discount_by_category
                    .get(&it.category)
                    .copied()
                    .unwrap_or(settings.default_discount);
                let start = Price(
                    ((it.on_demand_price.0 as f64) * (1.0 - discount))
                        .round()
                        .max(1.0) as u64,
                );
                let name = format!("{}/{}", it.name, zone);
                Pool {
                    prices: vec![start],
                    price_rng: streams.stream(&format!("ec2/spot-price/{name}")),
                    interruptions: Vec::new(),
                    interruption_rng: streams.stream(&format!("ec2/spot-interruptions/{name}")),
                    rate,
                }
            })
    }

    fn recorded(
        &self,
        catalog: &Catalog,
        instance_type: InstanceTypeIndex,
        zone: &str,
    ) -> Option<&Vec<(SimTime, Price)>> {
        let key = (catalog.get(instance_type).name.clone(), zone.to_string());
        self.settings.history.get(&key).filter(|h| !h.is_empty())
    }

    /// The first time after `t` at which the pool's price may change.
    fn next_change(
        &self,
        catalog: &Catalog,
        instance_type: InstanceTypeIndex,
        zone: &str,
        t: SimTime,
    ) -> SimTime {
        match self.recorded(catalog, instance_type, zone) {
            Some(history) => history
                .iter()
                .map(|(at, _)| *at)
                .find(|at| *at > t)
                .unwrap_or(SimTime::NEVER),
            None => {
                let interval = self.settings.change_interval.as_millis().max(1);
                SimTime((t.as_millis() / interval + 1) * interval)
            }
        }
    }

    /// Spot price of an instance type in a zone at time `t`.
    pub fn price(
        &mut self,
        catalog: &Catalog,
        instance_type: InstanceTypeIndex,
        zone: &str,
        t: SimTime,
    ) -> Price {
        if let Some(history) = self.recorded(catalog, instance_type, zone) {
            let index = history.partition_point(|(at, _)| *at <= t);
            return history[index.saturating_sub(1)].1;
        }
        let interval = self.settings.change_interval.as_millis().max(1);
        let step = (t.as_millis() / interval) as usize;
        let on_demand = catalog.get(instance_type).on_demand_price.0 as f64;
        let volatility = self.settings.volatility;
        let pool = self.pool(catalog, instance_type, zone);
        while pool.prices.len() <= step {
            let last = pool.prices.last().expect("a pool starts with a price").0 as f64;
            let change: f64 = pool.price_rng.random_range(-1.0..=1.0) * volatility;
            // Bounded between 10 % and 90 % of on-demand.
            let next = (last * (1.0 + change)).clamp(0.1 * on_demand, 0.9 * on_demand);
            pool.prices.push(Price(next.round().max(1.0) as u64));
        }
        pool.prices[step]
    }

    /// Cost of a spot instance that ran from `from` to `to`, each stretch at the price in
    /// force; at least the 60-second minimum at the starting price.
    pub fn cost(
        &mut self,
        catalog: &Catalog,
        instance_type: InstanceTypeIndex,
        zone: &str,
        from: SimTime,
        to: SimTime,
    ) -> Cost {
        let billed_ms = to
            .since(from)
            .as_millis()
            .div_ceil(1000)
            .max(crate::billing::MINIMUM_BILLED_SECS)
            * 1000;
        let end = from.as_millis() + billed_ms;
        let mut total = Cost::ZERO;
        let mut t = from.as_millis();
        while t < end {
            let next_change = self
                .next_change(catalog, instance_type, zone, SimTime(t))
                .as_millis();
            let stop = next_change.min(end);
            let price = self.price(catalog, instance_type, zone, SimTime(t));
            // Exact: price in micro-dollars per hour times milliseconds, in 1/3600 micro-dollar units.
            total += Cost(u128::from(price.0) * u128::from(stop - t) / 1000);
            t = stop;
        }
        total
    }

    /// The first interruption of the pool after `after`, from the pool's fixed sequence.
    pub fn next_interruption(
        &mut self,
        catalog: &Catalog,
        instance_type: InstanceTypeIndex,
        zone: &str,
        after: SimTime,
    ) -> Option<SimTime> {
        let pool = self.pool(catalog, instance_type, zone);
        if pool.rate <= 0.0 {
            return None;
        }
        loop {
            if let Some(t) = pool.interruptions.iter().find(|t| **t > after) {
                return Some(*t);
            }
            let last = pool
                .interruptions
                .last()
                .map_or(0.0, |t| t.as_millis() as f64 / 1000.0);
            let uniform: f64 = pool.interruption_rng.random::<f64>();
            let gap = -(1.0 - uniform).ln() / pool.rate;
            pool.interruptions
                .push(SimTime(((last + gap) * 1000.0) as u64));
        }
    }

    /// Checks whether a launch of this offering fails for lack of capacity at `t`: a declared
    /// window or a spell of a random shortage process covers it.
    pub fn insufficient_capacity(
        &mut self,
        instance_type: &str,
        zone: &str,
        spot: bool,
        t: SimTime,
    ) -> bool {
        let declared = self.settings.capacity_windows.iter().any(|w| {
            w.spot == spot
                && w.from <= t
                && t < w.to
                && w.instance_type
                    .as_deref()
                    .is_none_or(|n| n == instance_type)
                && w.zone.as_deref().is_none_or(|z| z == zone)
        });
        if declared {
            return true;
        }
        (0..self.settings.shortage_processes.len()).any(|index| {
            self.settings.shortage_processes[index].matches(instance_type, zone, spot)
                && self.spells(index, instance_type, zone, t).covers(t)
        })
    }

    /// Returns the spells of shortage process `index` in a pool that start at or before
    /// `until`, as (start, end) pairs by start. Spells may overlap.
    pub fn shortage_spells(
        &mut self,
        index: usize,
        instance_type: &str,
        zone: &str,
        until: SimTime,
    ) -> Vec<(SimTime, SimTime)> {
        let spells = self.spells(index, instance_type, zone, until);
        let started = spells.spells.partition_point(|(start, _)| *start <= until);
        spells.spells[..started].to_vec()
    }

    /// Draws the spells of shortage process `index` in a pool until one starts after `t`, and
    /// returns them.
    fn spells(
        &mut self,
        index: usize,
        instance_type: &str,
        zone: &str,
        t: SimTime,
    ) -> &ShortageSpells {
        let process = &self.settings.shortage_processes[index];
        let streams = &self.streams;
        let spells = self
            .shortages
            .entry((index, instance_type.to_string(), zone.to_string()))
            .or_insert_with(|| {
                let capacity = if process.spot { "spot" } else { "on-demand" };
                ShortageSpells {
                    rng: streams.stream(&format!(
                        "ec2/random-shortages/{index}/{capacity}/{instance_type}/{zone}"
                    )),
                    spells: Vec::new(),
                    latest_end: Vec::new(),
                }
            });
        spells.extend_past(t, process);
        spells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market() -> (Catalog, SpotMarket, usize) {
        let catalog = Catalog::builtin();
        let m5 = catalog.index_of("m5.large").unwrap();
        (catalog, SpotMarket::new(SpotSettings::default(), 42), m5)
    }

    #[test]
    fn starting_price_is_the_discount() {
        let (catalog, mut market, m5) = market();
        // m5.large on-demand 96,000 micro-dollars per hour, 60 % off.
        assert_eq!(
            market.price(&catalog, m5, "us-east-1a", SimTime::ZERO),
            Price(38_400)
        );
    }

    #[test]
    fn cost_across_price_change() {
        let (catalog, mut market, m5) = market();
        let change = SimTime::ZERO + SimDuration::from_hours(6);
        let before = market.price(&catalog, m5, "us-east-1a", SimTime::ZERO);
        let after = market.price(&catalog, m5, "us-east-1a", change);
        let from = change - SimDuration::from_mins(30);
        let to = change + SimDuration::from_mins(30);

        let cost = market.cost(&catalog, m5, "us-east-1a", from, to);

        // Half an hour at each price: (before + after) / 2 micro-dollars.
        assert_eq!(cost.micro_usd(), u128::from(before.0 + after.0).div_ceil(2));
        assert_ne!(before, after);
    }

    #[test]
    fn interruptions_are_fixed_per_pool() {
        let (catalog, mut a, m5) = market();
        let (_, mut b, _) = market();
        let first = a
            .next_interruption(&catalog, m5, "us-east-1a", SimTime::ZERO)
            .unwrap();
        // Asking later, or after other pools, gives the same sequence.
        b.next_interruption(&catalog, m5, "us-east-1b", SimTime::ZERO);
        assert_eq!(
            b.next_interruption(&catalog, m5, "us-east-1a", SimTime::ZERO),
            Some(first)
        );
        let second = a
            .next_interruption(&catalog, m5, "us-east-1a", first)
            .unwrap();
        assert!(second > first);
    }

    #[test]
    fn recorded_history_overrides_model() {
        let catalog = Catalog::builtin();
        let m5 = catalog.index_of("m5.large").unwrap();
        let mut settings = SpotSettings::default();
        let history = vec![
            (SimTime(0), Price(30_000)),
            (SimTime(1_800_000), Price(36_000)),
        ];
        settings
            .history
            .insert(("m5.large".into(), "us-east-1a".into()), history);
        let mut market = SpotMarket::new(settings, 1);

        assert_eq!(
            market.price(&catalog, m5, "us-east-1a", SimTime(1_799_999)),
            Price(30_000)
        );
        assert_eq!(
            market.price(&catalog, m5, "us-east-1a", SimTime(1_800_000)),
            Price(36_000)
        );
        // An hour across the change: half at 0.030 $/h and half at 0.036 $/h = 33,000 micro-dollars.
        let cost = market.cost(&catalog, m5, "us-east-1a", SimTime(0), SimTime(3_600_000));
        assert_eq!(cost.micro_usd(), 33_000);
        // Another zone keeps the model.
        assert_eq!(
            market.price(&catalog, m5, "us-east-1b", SimTime(0)),
            Price(38_400)
        );
    }

    #[test]
    fn band_rates() {
        // 2.5 % per month is about 9.8e-9 per second.
        let rate = InterruptionBand::Under5.rate_per_second();
        assert!((rate - 9.77e-9).abs() < 1e-10, "{rate}");
        assert_eq!(
            InterruptionBand::parse(">20%"),
            Some(InterruptionBand::Over20)
        );
        assert_eq!(InterruptionBand::parse("30%"), None);
    }

    #[test]
    fn capacity_windows_match() {
        let mut settings = SpotSettings::default();
        settings.capacity_windows.push(CapacityWindow {
            instance_type: Some("m5.large".into()),
            zone: None,
            spot: true,
            from: SimTime(1000),
            to: SimTime(2000),
        });
        let mut market = SpotMarket::new(settings, 1);
        assert!(market.insufficient_capacity("m5.large", "us-east-1a", true, SimTime(1500)));
        assert!(!market.insufficient_capacity("m5.large", "us-east-1a", false, SimTime(1500)));
        assert!(!market.insufficient_capacity("m5.large", "us-east-1a", true, SimTime(2000)));
        assert!(!market.insufficient_capacity("c5.large", "us-east-1a", true, SimTime(1500)));
    }

    fn hourly_spells() -> SpotSettings {
        let mut settings = SpotSettings::default();
        settings.shortage_processes.push(ShortageProcess {
            instance_type: Some("m5.large".into()),
            zone: None,
            spot: true,
            mean_interval: SimDuration::from_hours(6),
            duration: LatencyModel::Fixed(SimDuration::from_mins(30)),
        });
        settings
    }

    #[test]
    fn random_shortages_cover_their_spells() {
        let mut market = SpotMarket::new(hourly_spells(), 9);
        let week = SimTime::ZERO + SimDuration::from_days(7);

        let spells = market.shortage_spells(0, "m5.large", "us-east-1a", week);

        // About 28 spells a week at one per 6 hours on average.
        assert!((10..=50).contains(&spells.len()), "{} spells", spells.len());
        for (start, end) in &spells {
            assert_eq!(end.since(*start), SimDuration::from_mins(30));
            assert!(market.insufficient_capacity("m5.large", "us-east-1a", true, *start));
            let last_minute = *end - SimDuration::from_mins(1);
            assert!(market.insufficient_capacity("m5.large", "us-east-1a", true, last_minute));
            assert!(!market.insufficient_capacity("m5.large", "us-east-1a", false, *start));
            assert!(!market.insufficient_capacity("c5.large", "us-east-1a", true, *start));
        }
        let (first_start, _) = spells[0];
        if first_start > SimTime::ZERO {
            assert!(!market.insufficient_capacity(
                "m5.large",
                "us-east-1a",
                true,
                first_start - SimDuration(1)
            ));
        }
    }

    #[test]
    fn random_shortages_are_fixed_per_pool() {
        let week = SimTime::ZERO + SimDuration::from_days(7);
        let mut a = SpotMarket::new(hourly_spells(), 9);
        let mut b = SpotMarket::new(hourly_spells(), 9);

        // Asking about other pools and later times first does not shift a pool's spells.
        b.insufficient_capacity("m5.large", "us-east-1b", true, week);
        b.insufficient_capacity("m5.large", "us-east-1a", true, SimTime(123_456_789));
        let spells_a = a.shortage_spells(0, "m5.large", "us-east-1a", week);
        let spells_b = b.shortage_spells(0, "m5.large", "us-east-1a", week);

        assert_eq!(spells_a, spells_b);
        assert_ne!(
            spells_a,
            a.shortage_spells(0, "m5.large", "us-east-1b", week),
            "each zone has its own spells"
        );
        let mut other_seed = SpotMarket::new(hourly_spells(), 10);
        assert_ne!(
            spells_a,
            other_seed.shortage_spells(0, "m5.large", "us-east-1a", week)
        );
    }
}
