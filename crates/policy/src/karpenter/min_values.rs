//! `minValues` on NodePool requirements: a NodeClaim must keep instance types with at least
//! that many distinct values of the key (kubernetes-sigs/karpenter v1.13
//! `pkg/cloudprovider/types.go` `SatisfiesMinValues`).
//!
//! Under the default `--min-values-policy=Strict`, a NodeClaim that would fall short takes no
//! more pods. Under `BestEffort` (since v1.6) it takes them, and each `minValues` it cannot
//! meet drops to the number of values its instance types still have
//! (`filterInstanceTypesByRequirements` and `CanAdd` in `scheduling/nodeclaim.go`). A NodeClaim
//! keeps those relaxed minimums in its requirements, so later checks on it use them.

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

/// Counts the distinct values of `key` that `options` offer together.
fn distinct_values(
    pool: &ResolvedPool,
    options: &[usize],
    key: &str,
    zone: Option<&String>,
) -> usize {
    options
        .iter()
        .flat_map(|&option| values(pool, option, key, zone))
        .collect::<BTreeSet<&str>>()
        .len()
}

/// Returns the minimum of the pool's `index`-th `minValues` key for a NodeClaim whose relaxed
/// minimums are `relaxed`. An empty `relaxed` means none was relaxed.
fn minimum(pool: &ResolvedPool, relaxed: &[u32], index: usize) -> u32 {
    relaxed
        .get(index)
        .copied()
        .unwrap_or(pool.min_values[index].1)
}

/// Walks `options` (price-ordered indexes into the pool's options) and returns how many of the
/// cheapest are needed to meet every `minValues` of the pool, or the NodeClaim's `relaxed`
/// minimums where it has them: `Some(0)` when the pool has none, or `None` when all of the
/// options together fall short.
pub(super) fn needed(
    pool: &ResolvedPool,
    relaxed: &[u32],
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
        let met = seen
            .iter()
            .enumerate()
            .all(|(index, set)| set.len() >= minimum(pool, relaxed, index) as usize);
        if met {
            return Some(count + 1);
        }
    }
    None
}

/// Checks whether `options` meet the pool's `minValues`, or the NodeClaim's `relaxed` ones.
pub(super) fn satisfied(
    pool: &ResolvedPool,
    relaxed: &[u32],
    options: &[usize],
    zone: Option<&String>,
) -> bool {
    needed(pool, relaxed, options, zone).is_some()
}

/// Returns the `minValues` keys that all of `options` together cannot meet, in the pool's
/// order, against the pool's minimums or the NodeClaim's `relaxed` ones.
pub(super) fn unmet_keys<'a>(
    pool: &'a ResolvedPool,
    relaxed: &[u32],
    options: &[usize],
    zone: Option<&String>,
) -> Vec<&'a str> {
    pool.min_values
        .iter()
        .enumerate()
        .filter(|(index, (key, _))| {
            distinct_values(pool, options, key, zone) < minimum(pool, relaxed, *index) as usize
        })
        .map(|(_, (key, _))| key.as_str())
        .collect()
}

/// Returns the minimums of a NodeClaim under `--min-values-policy=BestEffort` whose instance
/// types are now `options`: each minimum that `options` cannot meet drops to the number of
/// distinct values they have. Returns an empty vector while no minimum is below the pool's.
pub(super) fn relax(
    pool: &ResolvedPool,
    relaxed: &[u32],
    options: &[usize],
    zone: Option<&String>,
) -> Vec<u32> {
    let lowered: Vec<u32> = pool
        .min_values
        .iter()
        .enumerate()
        .map(|(index, (key, _))| {
            let count =
                u32::try_from(distinct_values(pool, options, key, zone)).unwrap_or(u32::MAX);
            minimum(pool, relaxed, index).min(count)
        })
        .collect();
    let unchanged = lowered
        .iter()
        .zip(&pool.min_values)
        .all(|(low, (_, min))| low == min);
    if unchanged { Vec::new() } else { lowered }
}
