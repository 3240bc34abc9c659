//! The decision-log note for a NodePool whose disruption budgets allow no disruptions of one
//! reason while some of its nodes wait for that reason. Karpenter publishes the matching
//! `DisruptionBlocked` event on the NodePool ("No allowed disruptions for disruption reason ...
//! due to blocking budget", kubernetes-sigs/karpenter v1.14
//! `pkg/controllers/disruption/events/events.go`) from `BuildDisruptionBudgetMapping` in
//! `helpers.go`, on every pass in which the pool has nodes and its budget allows zero, and
//! deduplicates it for a minute. This note is written once when such a block starts, and again
//! only after the budget allowed disruptions in between.

use std::collections::BTreeSet;

use autoscale_sim_kube::Node;

use super::disruption::PodFacts;
use super::{BudgetReason, Karpenter};
use crate::api::{Actions, ClusterView};

/// The reasons checked, in the order the disruption methods run.
const REASONS: [BudgetReason; 3] = [
    BudgetReason::Empty,
    BudgetReason::Drifted,
    BudgetReason::Underutilized,
];

impl Karpenter {
    /// Writes a `disruption-blocked` note for each NodePool and reason whose budgets start to
    /// allow no disruptions while nodes of the pool wait for that reason. `candidates` are the
    /// pass's consolidation candidates (empty when the pass skips consolidation). `blocked`
    /// contains the NodePool index and reason of each block noted and not lifted since. The
    /// caller moves it out of [`Karpenter`] for the call, because `facts` borrows the pod cache.
    pub(super) fn note_blocking_budgets(
        &self,
        blocked: &mut BTreeSet<(usize, BudgetReason)>,
        view: &ClusterView<'_>,
        facts: &PodFacts,
        candidates: &[&Node],
        actions: &mut Actions,
    ) {
        let now_unix = self.config.start_unix_secs + (view.now.as_millis() / 1000) as i64;
        let pools = self.pools.as_ref().expect("pools resolved");
        for (pool, resolved) in pools.iter().enumerate() {
            for reason in REASONS {
                let Some(budget) = resolved.config.blocking_budget(reason, now_unix) else {
                    blocked.remove(&(pool, reason));
                    continue;
                };
                if blocked.contains(&(pool, reason)) {
                    continue;
                }
                let waiting = self.nodes_waiting_for(pool, reason, view, facts, candidates);
                if waiting == 0 {
                    continue;
                }
                let (nodes, wait) = if waiting == 1 {
                    ("node", "waits")
                } else {
                    ("nodes", "wait")
                };
                actions.note(
                    None,
                    "disruption-blocked",
                    "DisruptionBlocked",
                    format!(
                        "NodePool {}: budget {budget} allows no {reason:?} disruptions, and \
                         {waiting} candidate {nodes} for {reason:?} {wait}",
                        resolved.config.name
                    ),
                );
                blocked.insert((pool, reason));
            }
        }
    }

    /// Counts the nodes of `pool` that a disruption of `reason` would consider: empty
    /// candidates for `Empty`, the other candidates of a pool that consolidates underutilized
    /// nodes for `Underutilized`, and drifted nodes that may be disrupted for `Drifted`.
    fn nodes_waiting_for(
        &self,
        pool: usize,
        reason: BudgetReason,
        view: &ClusterView<'_>,
        facts: &PodFacts,
        candidates: &[&Node],
    ) -> usize {
        let in_pool = |node: &Node| self.pool_index(&node.owner) == Some(pool);
        match reason {
            BudgetReason::Empty => candidates
                .iter()
                .filter(|n| in_pool(n) && facts.is_empty(n))
                .count(),
            BudgetReason::Underutilized => {
                let pools = self.pools.as_ref().expect("pools resolved");
                if !pools[pool]
                    .config
                    .consolidation_policy
                    .consolidates_underutilized()
                {
                    return 0;
                }
                candidates
                    .iter()
                    .filter(|n| in_pool(n) && !facts.is_empty(n))
                    .count()
            }
            BudgetReason::Drifted => self
                .drifted
                .keys()
                .filter_map(|id| view.cluster.node(*id))
                .filter(|n| in_pool(n) && self.may_drift(n, view, facts))
                .count(),
        }
    }
}
