//! Multi-node consolidation: the largest prefix of the ordered candidates that can be deleted
//! together or replaced by one cheaper node
//! (kubernetes-sigs/karpenter v1.13 `pkg/controllers/disruption/multinodeconsolidation.go`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use autoscale_sim_cloud::Price;
use autoscale_sim_kube::{Node, NodeId, PodId};

use super::disruption::{Command, ConsolidationBase, Method, PodFacts};
use super::scheduling::{SimPod, placement_order};
use super::{BudgetReason, Karpenter, KarpenterVersion};
use crate::api::ClusterView;

/// Most candidates one multi-node command considers (`maxParallel` in
/// `multinodeconsolidation.go`).
const MAX_MULTI_NODE_CANDIDATES: usize = 100;

/// The reschedulable pods of the candidates of the prefix last simulated, kept sorted from one
/// simulation of the search to the next.
///
/// The binary search tries prefixes of one candidate list, so the pods of the next prefix are
/// the kept pods less those of the candidates dropped from its end, or plus those of the
/// candidates added to it. Filtering a sorted list keeps its order. Each candidate's pods come
/// sorted from the pod cache, so the kept pods and each added candidate's pods are sorted runs,
/// and merging sorted runs gives their sorted union. Pod ids are unique, so [`placement_order`]
/// and the order of ids are total orders, and the result is the order that sorting the
/// prefix's pods gives.
#[derive(Default)]
pub(super) struct PrefixPods<'c> {
    /// Number of candidates whose pods are kept.
    len: usize,
    /// The kept pods in placement order, each with its candidate's index in the list.
    pods: Vec<(usize, SimPod<'c>)>,
    /// The kept pods' ids in id order, each with its candidate's index in the list.
    ids: Vec<(PodId, usize)>,
    /// Working memory of [`merge_runs`], kept so that each simulation of the search reuses it.
    pod_scratch: Vec<(usize, SimPod<'c>)>,
    id_scratch: Vec<(PodId, usize)>,
    pod_run_ends: Vec<usize>,
    id_run_ends: Vec<usize>,
}

impl<'c> PrefixPods<'c> {
    /// Keeps the pods of `prefix`, which must be a prefix of the list of every earlier call,
    /// then appends them to `pods` in placement order and their ids to `ids` in id order.
    pub(super) fn take(
        &mut self,
        prefix: &[NodeId],
        view: &ClusterView<'_>,
        facts: &PodFacts<'c>,
        pods: &mut Vec<SimPod<'c>>,
        ids: &mut Vec<PodId>,
    ) {
        let len = prefix.len();
        if len <= self.len {
            self.pods.retain(|(index, _)| *index < len);
            self.ids.retain(|(_, index)| *index < len);
        } else {
            // The kept pods are the first run, and each added candidate's pods one more.
            let mut pod_ends = std::mem::take(&mut self.pod_run_ends);
            pod_ends.clear();
            pod_ends.push(self.pods.len());
            let mut id_ends = std::mem::take(&mut self.id_run_ends);
            id_ends.clear();
            id_ends.push(self.ids.len());
            for (index, id) in prefix.iter().enumerate().skip(self.len) {
                // A candidate that is gone fails the simulation before its pods are read.
                let Some(node) = view.cluster.node(*id) else {
                    continue;
                };
                let node_pods = facts.reschedulable_pods(node);
                self.pods
                    .extend(node_pods.iter().map(|p| (index, p.sim_pod())));
                pod_ends.push(self.pods.len());
                let node_ids = facts.reschedulable_pod_ids(node);
                self.ids.extend(node_ids.iter().map(|&pod| (pod, index)));
                id_ends.push(self.ids.len());
            }
            merge_runs(
                &mut self.pods,
                &mut pod_ends,
                &mut self.pod_scratch,
                |a, b| placement_order(&a.1, &b.1),
            );
            merge_runs(&mut self.ids, &mut id_ends, &mut self.id_scratch, Ord::cmp);
            self.pod_run_ends = pod_ends;
            self.id_run_ends = id_ends;
        }
        self.len = len;

        pods.extend(self.pods.iter().map(|(_, pod)| *pod));
        ids.extend(self.ids.iter().map(|(pod, _)| *pod));
    }
}

/// Sorts `items`, which consists of runs sorted by `order` that end at the indexes in `ends`,
/// by merging neighbouring runs until one is left. `scratch` is working memory.
fn merge_runs<T: Copy>(
    items: &mut Vec<T>,
    ends: &mut Vec<usize>,
    scratch: &mut Vec<T>,
    order: impl Fn(&T, &T) -> Ordering,
) {
    // Empty runs would only cost copies.
    ends.dedup();
    if ends.first() == Some(&0) {
        ends.remove(0);
    }
    while ends.len() > 1 {
        scratch.clear();
        let mut start = 0;
        let mut merged = 0;
        for pair in (0..ends.len()).step_by(2) {
            let end = match ends.get(pair + 1) {
                Some(&end) => {
                    merge_into(
                        &items[start..ends[pair]],
                        &items[ends[pair]..end],
                        &order,
                        scratch,
                    );
                    end
                }
                None => {
                    scratch.extend_from_slice(&items[start..ends[pair]]);
                    ends[pair]
                }
            };
            ends[merged] = end;
            merged += 1;
            start = end;
        }
        ends.truncate(merged);
        std::mem::swap(items, scratch);
    }
}

/// Appends the merge of two lists sorted by `order` to `out`.
fn merge_into<T: Copy>(a: &[T], b: &[T], order: impl Fn(&T, &T) -> Ordering, out: &mut Vec<T>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if order(&b[j], &a[i]) == Ordering::Less {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

impl Karpenter {
    /// Multi-node consolidation: sorts the candidates, keeps each while its NodePool's budget
    /// lasts, then binary-searches the longest prefix of at least two nodes whose command is a
    /// delete, or a replace that still has options after [`Karpenter::filter_out_same_type`].
    ///
    /// `sorted` lists the pass's candidates in order ([`Karpenter::sorted_candidates`]), and
    /// `base` is the pass's starting state for simulations, built here if it is `None`.
    pub(super) fn multi_node_consolidation<'v>(
        &self,
        view: &ClusterView<'v>,
        facts: &PodFacts,
        sorted: &[&Node],
        base: &mut Option<ConsolidationBase<'v>>,
    ) -> Option<Command> {
        // Candidates of every NodePool that consolidates underutilized nodes, in order. Empty
        // nodes are candidates under v1.13. v1.14.1's `ShouldDisrupt` (`consolidation.go`)
        // leaves them to Emptiness, so that Empty budgets govern them.
        let pools = self.pools.as_ref().expect("pools resolved");
        let skip_empty = self.config.version == KarpenterVersion::V1_14;
        let candidates = sorted.iter().filter(|n| {
            !(skip_empty && facts.is_empty(n))
                && self.pool_index(&n.owner).is_some_and(|p| {
                    pools[p]
                        .config
                        .consolidation_policy
                        .consolidates_underutilized()
                })
        });

        // Drop, in order, the candidates whose NodePool's budget is used up.
        let mut budgets = self.available_budgets(view, BudgetReason::Underutilized);
        let mut within_budget = Vec::new();
        for node in candidates {
            let pool = self.pool_index(&node.owner).expect("candidates have pools");
            if budgets[pool] == 0 {
                continue;
            }
            budgets[pool] -= 1;
            within_budget.push(node.id);
        }
        if within_budget.len() < 2 {
            return None;
        }

        // Binary search on the prefix length, as Karpenter indexes it: prefixes of
        // `mid + 1` candidates for `mid` in 1..=max, where max is one less than the candidate
        // count, or 100 when there are more than 100 candidates.
        let mut low = 1;
        let mut high = if within_budget.len() <= MAX_MULTI_NODE_CANDIDATES {
            within_budget.len() - 1
        } else {
            MAX_MULTI_NODE_CANDIDATES
        };
        let base = base.get_or_insert_with(|| ConsolidationBase::for_pass(self, view));
        let mut presorted = PrefixPods::default();
        let mut best = None;
        while low <= high {
            let mid = (low + high) / 2;
            let prefix = &within_budget[..=mid];
            let valid = self
                .compute_consolidation(
                    view,
                    Method::MultiNode,
                    prefix,
                    Some(base),
                    Some(&mut presorted),
                    facts,
                )
                .ok()
                .map(|mut command| {
                    self.filter_out_same_type(view, &mut command);
                    command
                })
                .filter(|command| command.replacements.iter().all(|r| !r.options.is_empty()));
            match valid {
                Some(command) => {
                    best = Some(command);
                    low = mid + 1;
                }
                None => high = mid - 1,
            }
        }
        best
    }

    /// Drops from a multi-node replacement every option priced at or above the cheapest
    /// candidate whose instance type is among the options (`filterOutSameType`): replacing
    /// nodes by one of the same type as a candidate disrupts more pods than deleting the
    /// others would.
    pub(super) fn filter_out_same_type(&self, view: &ClusterView<'_>, command: &mut Command) {
        let Some(replacement) = command.replacements.first_mut() else {
            return;
        };
        let mut cheapest_by_type: BTreeMap<_, Price> = BTreeMap::new();
        for node in command
            .candidates
            .iter()
            .filter_map(|id| view.cluster.node(*id))
        {
            let price = self.node_price(view, node);
            cheapest_by_type
                .entry(node.instance_type)
                .and_modify(|p| *p = (*p).min(price))
                .or_insert(price);
        }
        let pool = &self.pools.as_ref().expect("pools resolved")[replacement.pool];
        let max_price = replacement
            .options
            .iter()
            .filter_map(|&i| cheapest_by_type.get(&pool.options[i].instance_type))
            .min()
            .copied();
        let Some(max_price) = max_price else {
            return;
        };
        let capacity_type = replacement.capacity_type;
        let zone = replacement.zone.clone();
        replacement.options.retain(|&i| {
            self.option_price(view, pool, i, capacity_type, zone.as_ref())
                .is_some_and(|p| p < max_price)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_runs_sorts_runs() {
        let cases: [(&[u32], &[usize]); 5] = [
            (&[], &[]),
            (&[3, 1, 2], &[1, 2, 3]),
            (&[1, 4, 9, 2, 3, 10, 0, 5], &[3, 6, 8]),
            (&[2, 7, 1, 8], &[0, 2, 2, 4]),
            (&[5, 6, 1, 2, 3, 4, 0], &[2, 6, 6, 7]),
        ];
        for (items, ends) in cases {
            let mut merged = items.to_vec();
            let mut ends = ends.to_vec();
            merge_runs(&mut merged, &mut ends, &mut Vec::new(), Ord::cmp);
            let mut sorted = items.to_vec();
            sorted.sort();
            assert_eq!(merged, sorted, "runs of {items:?}");
        }
    }
}
