//! `minValues` on NodePool requirements: a NodeClaim must keep instance types with at least
//! that many distinct values of the key (kubernetes-sigs/karpenter v1.13
//! `pkg/cloudprovider/types.go` `SatisfiesMinValues`, the default `Strict` minValues policy).

use std::collections::BTreeSet;

use autoscale_sim_kube::{CapacityType, LABEL_CAPACITY_TYPE, LABEL_ZONE};

use super::ResolvedPool;

/// Values that option `option` of `pool` offers for `key`. An instance type offers every zone
/// and capacity type it has offerings in. So the zone key takes the pool's zones, or the
/// NodeClaim's zone once a pod pinned one, and the capacity-type key the pool's capacity types.
/// Any other key takes the instance type's label.
fn values<'a>(
    pool: &'a ResolvedPool,
    option: usize,
    key: &str,
    zone: Option<&'a String>,
) -> Vec<&'a str> {
    if key == LABEL_ZONE {
        return match zone {
            Some(zone) => vec![zone.as_str()],
            None => pool.zones.iter().map(String::as_str).collect(),
        };
    }
    if key == LABEL_CAPACITY_TYPE {
        let mut types = Vec::new();
        if pool.allows_spot {
            types.push(CapacityType::Spot.label());
        }
        if pool.allows_on_demand {
            types.push(CapacityType::OnDemand.label());
        }
        return types;
    }
    pool.options[option]
        .labels
        .get(key)
        .map(String::as_str)
        .into_iter()
        .collect()
}

/// Walks `options` (price-ordered indexes into the pool's options) and returns how many of the
/// cheapest are needed to meet every `minValues` of the pool, `Some(0)` when the pool has none,
/// or `None` when all of them together fall short.
pub(super) fn needed(
    pool: &ResolvedPool,
    options: &[usize],
    zone: Option<&String>,
) -> Option<usize> {
    if pool.min_values.is_empty() {
        return Some(0);
    }
    let mut seen: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); pool.min_values.len()];
    for (count, &option) in options.iter().enumerate() {
        for ((key, _), set) in pool.min_values.iter().zip(seen.iter_mut()) {
            set.extend(values(pool, option, key, zone));
        }
        let met = pool
            .min_values
            .iter()
            .zip(&seen)
            .all(|((_, min), set)| set.len() >= *min as usize);
        if met {
            return Some(count + 1);
        }
    }
    None
}

/// Checks whether `options` meet the pool's `minValues`.
pub(super) fn satisfied(pool: &ResolvedPool, options: &[usize], zone: Option<&String>) -> bool {
    needed(pool, options, zone).is_some()
}
