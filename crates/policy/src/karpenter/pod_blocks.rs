//! The decision-log note for a node whose pods keep it from being disrupted. Karpenter's
//! `NewCandidate` publishes a `DisruptionBlocked` event on the node when `ValidatePodsDisruptable`
//! fails: a pod carries `karpenter.sh/do-not-disrupt`, or a PodDisruptionBudget prevents an
//! eviction (kubernetes-sigs/karpenter v1.14 `disruption/types.go`, `state/statenode.go`). The
//! real event repeats on every pass, and its recorder drops repeats for a node within 2 minutes
//! (`events/recorder.go`).
//! This note is written once per node and cause: a PodDisruptionBudget's allowance often drops
//! to zero and back while pods restart, and noting each such block would bury the log.

use std::collections::BTreeMap;

use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::{Node, NodeId, PodId};

use super::Karpenter;
use super::disruption::PodFacts;
use super::node_blocks::note_once;
use crate::api::{Actions, ClusterView};

/// Cause that keeps a node's pods from being evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PodBlock {
    /// A pod carries `karpenter.sh/do-not-disrupt`.
    DoNotDisrupt,
    /// The PodDisruptionBudget, by index in the cluster's list, allows no eviction of a pod.
    Budget(usize),
    /// More than one PodDisruptionBudget covers a pod, which the eviction API rejects.
    SeveralBudgets,
}

impl Karpenter {
    /// Writes a `disruption-blocked` note for each node that passes the node-level checks but
    /// whose pods block its disruption, the first time each cause blocks it. `noted` contains
    /// the causes noted for each node; the caller moves it out of [`Karpenter`] for the call,
    /// because `facts` borrows the pod cache.
    pub(super) fn note_blocking_pods(
        &self,
        noted: &mut BTreeMap<NodeId, Vec<PodBlock>>,
        view: &ClusterView<'_>,
        facts: &PodFacts,
        actions: &mut Actions,
    ) {
        let flags = facts.disruptable_flags();
        if flags.iter().all(|disruptable| *disruptable) {
            return;
        }
        let mut allowed: Option<Vec<i64>> = None;
        for (node, _) in view.cluster.nodes().zip(flags).filter(|(_, d)| !**d) {
            if !self.is_disruptable_node(node, view) {
                continue;
            }
            let allowed = allowed.get_or_insert_with(|| view.cluster.disruptions_allowed());
            let Some((pod, block)) = blocking_pod(node, view, facts, allowed) else {
                continue;
            };
            note_once(noted, node.id, block, actions, || {
                describe(pod, block, view)
            });
        }
    }
}

/// Finds the first of the node's reschedulable pods that blocks its eviction: a do-not-disrupt
/// pod first, then a pod whose budget rejects the eviction, as `ValidatePodsDisruptable` checks.
fn blocking_pod(
    node: &Node,
    view: &ClusterView<'_>,
    facts: &PodFacts,
    allowed: &[i64],
) -> Option<(PodId, PodBlock)> {
    let pods = facts.reschedulable_pods(node);
    let protected = pods.iter().find(|pod| {
        view.cluster
            .pod(pod.sim_pod().id)
            .is_some_and(|pod| pod.do_not_disrupt_active(view.now))
    });
    if let Some(pod) = protected {
        return Some((pod.sim_pod().id, PodBlock::DoNotDisrupt));
    }
    pods.iter().find_map(|pod| {
        let pod = pod.sim_pod();
        match view.cluster.pdbs_covering(pod.spec).as_slice() {
            [] => None,
            [index] if allowed[*index] >= 1 => None,
            [index] => Some((pod.id, PodBlock::Budget(*index))),
            _ => Some((pod.id, PodBlock::SeveralBudgets)),
        }
    })
}

fn describe(pod: PodId, block: PodBlock, view: &ClusterView<'_>) -> String {
    let namespace = view
        .cluster
        .pod(pod)
        .map_or("default", |p| p.spec.namespace());
    let name = view.cluster.pod_name(pod);
    match block {
        PodBlock::DoNotDisrupt => {
            let until = view
                .cluster
                .pod(pod)
                .and_then(|p| p.do_not_disrupt_until())
                .filter(|until| *until != SimTime::NEVER);
            match until {
                Some(until) => format!(
                    "pod {namespace}/{name} has the karpenter.sh/do-not-disrupt annotation, which protects it until {until}"
                ),
                None => {
                    format!("pod {namespace}/{name} has the karpenter.sh/do-not-disrupt annotation")
                }
            }
        }
        PodBlock::Budget(index) => {
            let budget = &view.cluster.pdbs()[index];
            format!(
                "PodDisruptionBudget {}/{} allows no eviction of pod {namespace}/{name} now",
                if budget.namespace.is_empty() {
                    "default"
                } else {
                    &budget.namespace
                },
                budget.name,
            )
        }
        PodBlock::SeveralBudgets => format!(
            "pod {namespace}/{name} is covered by more than one PodDisruptionBudget, so it cannot be evicted"
        ),
    }
}
