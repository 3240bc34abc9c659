//! Exact integer money.
//!
//! Prices are integer micro-dollars per hour. A cost is kept in units of 1/3600 micro-dollar,
//! so that a price times a number of seconds is exact: one hour of a 0.096 $/h m5.large is
//! 96,000 micro-dollars/h × 3,600 s = 345,600,000 units = 96,000 micro-dollars.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// An hourly price in integer micro-dollars (1 $/h = 1,000,000).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Price(pub u64);

impl Price {
    /// Parses a decimal dollar amount such as `0.096000` exactly; more than six decimals are
    /// rejected rather than rounded.
    pub fn parse_usd(text: &str) -> Option<Price> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        if !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let significant = fraction.trim_end_matches('0');
        if significant.len() > 6 {
            return None;
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut micros: u64 = 0;
        for (i, digit) in significant.bytes().enumerate() {
            micros += u64::from(digit - b'0') * 10u64.pow(5 - i as u32);
        }
        whole.checked_mul(1_000_000)?.checked_add(micros).map(Price)
    }

    /// The price in dollars per hour, for output only.
    pub fn usd_per_hour(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Cost of running at this price for `seconds` seconds.
    pub fn cost_for_secs(self, seconds: u64) -> Cost {
        Cost(u128::from(self.0) * u128::from(seconds))
    }
}

/// An amount of money in units of 1/3600 micro-dollar (see the module documentation).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cost(pub u128);

impl Cost {
    /// No money.
    pub const ZERO: Cost = Cost(0);

    /// Whole micro-dollars, rounded to the nearest (halves up).
    pub fn micro_usd(self) -> u128 {
        (self.0 + 1800) / 3600
    }

    /// Dollars, for output only: rounded to the micro-dollar first, so equal costs print equally.
    pub fn usd(self) -> f64 {
        self.micro_usd() as f64 / 1e6
    }
}

impl Add for Cost {
    type Output = Cost;
    fn add(self, rhs: Cost) -> Cost {
        Cost(self.0 + rhs.0)
    }
}

impl AddAssign for Cost {
    fn add_assign(&mut self, rhs: Cost) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(iter: I) -> Cost {
        iter.fold(Cost::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_usd_is_exact() {
        assert_eq!(Price::parse_usd("0.096000"), Some(Price(96_000)));
        assert_eq!(Price::parse_usd("0.0104"), Some(Price(10_400)));
        assert_eq!(Price::parse_usd("27.456"), Some(Price(27_456_000)));
        assert_eq!(Price::parse_usd("3"), Some(Price(3_000_000)));
        assert_eq!(Price::parse_usd("0.0000001"), None);
        assert_eq!(Price::parse_usd("-1"), None);
        assert_eq!(Price::parse_usd("abc"), None);
        assert_eq!(Price::parse_usd(""), None);
    }

    #[test]
    fn one_hour_costs_the_hourly_price() {
        let cost = Price(96_000).cost_for_secs(3600);
        assert_eq!(cost.micro_usd(), 96_000);
        assert_eq!(cost.usd(), 0.096);
    }
}
