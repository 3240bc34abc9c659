//! Filter and score results of the scheduler stand-in per pod spec and node, kept from one
//! scheduling pass to the next while neither the spec nor the node changes.

use std::sync::Arc;

use crate::objects::PodSpec;
use crate::plugins::RawScores;
use crate::scheduler::ScoringStrategy;

/// Maximum number of specs with cached results. A pass meets few specs, about one per workload, and
/// the least recently used spec's results are dropped to make room for a new one.
const MAX_CACHED_SPECS: usize = 4;

/// The result of the filters and scores for one spec on one node: `None` when the node fails
/// the filters, otherwise its raw scores.
pub(crate) type Verdict = Option<RawScores>;

/// A verdict and the node version it was computed from.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The node's version (see `NodeTable`), or 0, which no node has, for no verdict.
    version: u64,
    verdict: Verdict,
}

impl Entry {
    const EMPTY: Entry = Entry {
        version: 0,
        verdict: None,
    };
}

/// The verdicts for one spec under one scoring strategy, by node position.
///
/// Each entry stores the version of the node it was computed on. Every change to a node gives
/// it a new version, and a removal moves the later nodes to other positions, where the
/// versions differ, so an entry is used only while it matches the node now at its position.
#[derive(Debug)]
pub(crate) struct SpecVerdicts {
    /// The spec, held so that no other spec takes its address.
    spec: Arc<PodSpec>,
    strategy: ScoringStrategy,
    entries: Vec<Entry>,
    /// The cache's use count at the last lookup of this spec, for the least-recently-used rule.
    last_used: u64,
}

impl SpecVerdicts {
    /// Returns the verdict at `position` if it was computed on the node `version`.
    #[inline]
    pub(crate) fn get(&self, position: usize, version: u64) -> Option<Verdict> {
        let entry = self.entries.get(position)?;
        (entry.version == version).then_some(entry.verdict)
    }

    /// Stores `verdict` for the node at `position`, computed on its `version`.
    #[inline]
    pub(crate) fn set(&mut self, position: usize, version: u64, verdict: Verdict) {
        if let Some(entry) = self.entries.get_mut(position) {
            *entry = Entry { version, verdict };
        }
    }
}

/// Verdicts for the specs met most recently, kept by [`crate::Cluster`] for the scheduler.
///
/// The verdicts are valid only for the cluster whose node versions they store. A clone of the
/// cluster starts with no verdicts, so that two clones whose nodes change apart never share
/// them.
#[derive(Debug, Default)]
pub(crate) struct VerdictCache {
    specs: Vec<SpecVerdicts>,
    /// Number of lookups so far.
    uses: u64,
}

impl Clone for VerdictCache {
    fn clone(&self) -> Self {
        VerdictCache::default()
    }
}

impl VerdictCache {
    /// Returns the verdicts of `spec` under `strategy`, sized for `node_count` nodes. A spec met
    /// for the first time gets an empty table, which replaces the least recently used one when
    /// the cache is full.
    pub(crate) fn for_spec(
        &mut self,
        spec: &Arc<PodSpec>,
        strategy: ScoringStrategy,
        node_count: usize,
    ) -> &mut SpecVerdicts {
        self.uses += 1;
        let found = self
            .specs
            .iter()
            .position(|table| Arc::ptr_eq(&table.spec, spec) && table.strategy == strategy);
        let index = match found {
            Some(index) => index,
            None => {
                let table = SpecVerdicts {
                    spec: Arc::clone(spec),
                    strategy,
                    entries: Vec::new(),
                    last_used: 0,
                };
                if self.specs.len() < MAX_CACHED_SPECS {
                    self.specs.push(table);
                    self.specs.len() - 1
                } else {
                    let oldest = (0..self.specs.len())
                        .min_by_key(|&index| self.specs[index].last_used)
                        .expect("MAX_CACHED_SPECS is above 0");
                    self.specs[oldest] = table;
                    oldest
                }
            }
        };
        let table = &mut self.specs[index];
        table.last_used = self.uses;
        table.entries.resize(node_count, Entry::EMPTY);
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(fit: i64) -> RawScores {
        RawScores {
            fit,
            ..Default::default()
        }
    }

    #[test]
    fn verdict_needs_same_version() {
        let spec = Arc::new(PodSpec::default());
        let mut cache = VerdictCache::default();
        let table = cache.for_spec(&spec, ScoringStrategy::LeastAllocated, 3);
        assert!(table.get(1, 7).is_none());

        table.set(1, 7, Some(scores(40)));
        table.set(2, 8, None);
        assert_eq!(table.get(1, 7).flatten().map(|s| s.fit), Some(40));
        assert!(table.get(2, 8).is_some_and(|verdict| verdict.is_none()));
        assert!(table.get(1, 9).is_none());
        assert!(table.get(5, 7).is_none());
    }

    #[test]
    fn specs_and_strategies_are_apart() {
        let spec = Arc::new(PodSpec::default());
        let other = Arc::new(PodSpec::default());
        let mut cache = VerdictCache::default();
        cache
            .for_spec(&spec, ScoringStrategy::LeastAllocated, 2)
            .set(0, 1, Some(scores(10)));

        let same = cache.for_spec(&spec, ScoringStrategy::LeastAllocated, 2);
        assert!(same.get(0, 1).is_some());
        let most = cache.for_spec(&spec, ScoringStrategy::MostAllocated, 2);
        assert!(most.get(0, 1).is_none());
        let equal_content = cache.for_spec(&other, ScoringStrategy::LeastAllocated, 2);
        assert!(equal_content.get(0, 1).is_none());
    }

    #[test]
    fn least_recently_used_spec_leaves() {
        let specs: Vec<Arc<PodSpec>> = (0..=MAX_CACHED_SPECS)
            .map(|_| Arc::new(PodSpec::default()))
            .collect();
        let mut cache = VerdictCache::default();
        for spec in &specs[..MAX_CACHED_SPECS] {
            cache
                .for_spec(spec, ScoringStrategy::LeastAllocated, 1)
                .set(0, 1, None);
        }
        // The first spec is used again, so the second is the least recently used.
        cache.for_spec(&specs[0], ScoringStrategy::LeastAllocated, 1);
        cache.for_spec(&specs[MAX_CACHED_SPECS], ScoringStrategy::LeastAllocated, 1);

        let kept = |cache: &mut VerdictCache, spec: &Arc<PodSpec>| {
            cache
                .for_spec(spec, ScoringStrategy::LeastAllocated, 1)
                .get(0, 1)
                .is_some()
        };
        assert!(kept(&mut cache, &specs[0]));
        assert!(!kept(&mut cache, &specs[1]));
        assert!(cache.specs.len() == MAX_CACHED_SPECS);
    }

    #[test]
    fn clone_starts_empty() {
        let spec = Arc::new(PodSpec::default());
        let mut cache = VerdictCache::default();
        cache
            .for_spec(&spec, ScoringStrategy::LeastAllocated, 1)
            .set(0, 1, None);
        assert!(cache.clone().specs.is_empty());
    }
}
