//! Single-node consolidation verdicts kept from one disruption pass to the next, so that a
//! candidate whose simulation inputs did not change is not simulated again.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use autoscale_sim_cloud::Resources;
use autoscale_sim_engine::IdHasher;
use autoscale_sim_kube::{CapacityType, Node, NodeId, PodId};

use super::disruption::{ConsolidationBase, Unconsolidatable};
use super::pod_facts::PodFacts;
use super::scheduling::RemainingLimits;
use super::{Karpenter, ResolvedPool};
use crate::api::ClusterView;

/// The inputs that every single-node consolidation simulation of a pass reads besides its
/// candidate.
///
/// A simulation reads each destination node's id, free capacity and initialized state, the
/// pending pods, the pools' remaining limits, and the nodes inside their consolidateAfter
/// window. It also reads each destination node's name, labels and taints, which never change
/// for a node id, and a pending pod's spec and creation time, which never change for a pod id.
/// The pools themselves change only on a NodePool update, which drops the stored verdicts.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SharedInputs {
    /// Per destination node, in the simulation's order: its id, free capacity and whether it
    /// is initialized.
    nodes: Vec<(NodeId, Resources, bool)>,
    /// The pending pods, in placement order.
    pending: Vec<PodId>,
    limits: Vec<RemainingLimits>,
    /// Nodes that take no pods because they are inside their consolidateAfter window.
    under_consolidate_after: Vec<NodeId>,
}

/// Verdicts of single-node consolidation, kept while the passes' [`SharedInputs`] stay equal.
///
/// A stored verdict is reused only when the candidate's pods are unchanged (same node id and
/// `pod_changes`), so its simulation reads the same inputs as the one that gave the verdict.
/// The verdicts are kept only when the simulation and the price checks read nothing else:
///
/// * no pool allows spot and the candidate is on-demand, so every price is a fixed on-demand
///   price and not the spot market's price at the pass's time;
/// * no pod has inter-pod constraints and no bound pod has required anti-affinity, so the
///   topology tracker reads no pods of the cluster;
/// * no pod requests a host port, so the simulation runs on the pass's shared node list and
///   not on a list that collects the host ports of bound pods.
///
/// A `Balanced` NodePool's score reads the whole cluster's prices and disruption costs, so its
/// rejection is never stored.
#[derive(Debug, Default)]
pub(super) struct SingleNodeVerdicts {
    /// The inputs the stored verdicts were computed with; `None` while verdicts are not kept.
    inputs: Option<SharedInputs>,
    /// Per candidate: its `pod_changes` and its reason to stay. The map is only looked up by
    /// node id and never iterated, so its hash order cannot change a decision.
    by_node: HashMap<NodeId, (u64, Unconsolidatable), BuildHasherDefault<IdHasher>>,
}

impl SingleNodeVerdicts {
    /// Starts a pass with `inputs`, or with `None` when this pass's verdicts may not be kept.
    /// Verdicts stored under other inputs are dropped.
    pub(super) fn start_pass(&mut self, inputs: Option<SharedInputs>) {
        if inputs.is_none() || inputs != self.inputs {
            self.by_node.clear();
        }
        self.inputs = inputs;
    }

    /// Drops every stored verdict, for a change of the NodePools.
    pub(super) fn clear(&mut self) {
        self.inputs = None;
        self.by_node.clear();
    }

    /// Checks whether this pass keeps verdicts.
    pub(super) fn active(&self) -> bool {
        self.inputs.is_some()
    }

    /// Returns the stored reason of `node` when its pods are unchanged since it was stored.
    pub(super) fn get(&self, node: &Node) -> Option<&Unconsolidatable> {
        self.by_node
            .get(&node.id)
            .filter(|(pod_changes, _)| *pod_changes == node.pod_changes)
            .map(|(_, reason)| reason)
    }

    /// Stores the reason of `node`, unless it depends on more than [`SharedInputs`].
    pub(super) fn insert(&mut self, node: &Node, reason: &Unconsolidatable) {
        if *reason != Unconsolidatable::BalancedScoreTooLow {
            self.by_node
                .insert(node.id, (node.pod_changes, reason.clone()));
        }
    }
}

impl Karpenter {
    /// Collects the inputs that this pass's single-node simulations share, or returns `None`
    /// when a simulation would read more than them (see [`SingleNodeVerdicts`]).
    pub(super) fn shared_inputs(
        &self,
        view: &ClusterView<'_>,
        base: &ConsolidationBase<'_>,
    ) -> Option<SharedInputs> {
        let pools: &[ResolvedPool] = self.pools.as_ref().expect("pools resolved");
        let reads_more = pools.iter().any(|pool| pool.allows_spot)
            || view.cluster.has_required_anti_affinity()
            || base.pending().host_ports()
            || base.pending().inter_pod_constraints();
        if reads_more {
            return None;
        }
        Some(SharedInputs {
            nodes: base
                .nodes()
                .iter()
                .map(|n| (n.node.id, n.free, n.initialized))
                .collect(),
            pending: base.pending().ids().collect(),
            limits: base.limits().to_vec(),
            under_consolidate_after: self.destinations_under_consolidate_after(view),
        })
    }

    /// Checks whether a candidate's verdict depends only on its pods and the pass's
    /// [`SharedInputs`]: it is on-demand, and none of its pods has inter-pod constraints or
    /// requests a host port.
    pub(super) fn verdict_reusable(&self, node: &Node, facts: &PodFacts<'_>) -> bool {
        node.capacity_type == CapacityType::OnDemand && facts.has_plain_pods(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestWorld, fake_catalog, fake_type_name, pod_spec};

    /// Shared inputs with one destination node of `free_cpu` millicores free.
    fn inputs(node: NodeId, free_cpu: i64) -> SharedInputs {
        SharedInputs {
            nodes: vec![(node, Resources::new(free_cpu, 1 << 30, 10), true)],
            pending: vec![],
            limits: vec![RemainingLimits::default()],
            under_consolidate_after: vec![],
        }
    }

    /// Builds a world with one Ready 4-CPU node and no pods.
    fn world_with_node() -> (TestWorld, NodeId) {
        let mut world = TestWorld::new(fake_catalog(), vec![]);
        let allocatable = Resources::new(4000, 16 << 30, 110);
        let node = world.add_ready_node("default", &fake_type_name(4, 16), allocatable);
        (world, node)
    }

    #[test]
    fn verdicts_kept_only_for_same_inputs() {
        let (mut world, node) = world_with_node();
        world.add_bound_pod(node, &pod_spec(500, 0));
        let mut verdicts = SingleNodeVerdicts::default();

        verdicts.start_pass(Some(inputs(node, 1000)));
        assert!(verdicts.active());
        verdicts.insert(
            world.cluster.node(node).unwrap(),
            &Unconsolidatable::NotCheaper,
        );
        verdicts.start_pass(Some(inputs(node, 1000)));
        let stored = verdicts.get(world.cluster.node(node).unwrap());
        assert_eq!(stored, Some(&Unconsolidatable::NotCheaper));

        // Other inputs drop the verdict.
        verdicts.start_pass(Some(inputs(node, 900)));
        assert_eq!(verdicts.get(world.cluster.node(node).unwrap()), None);

        // A pass that may not keep verdicts drops them too.
        verdicts.insert(
            world.cluster.node(node).unwrap(),
            &Unconsolidatable::NotCheaper,
        );
        verdicts.start_pass(None);
        assert!(!verdicts.active());
        assert_eq!(verdicts.get(world.cluster.node(node).unwrap()), None);
    }

    #[test]
    fn clear_drops_verdicts() {
        let (world, node) = world_with_node();
        let node = world.cluster.node(node).unwrap();
        let mut verdicts = SingleNodeVerdicts::default();
        verdicts.start_pass(Some(inputs(node.id, 1000)));
        verdicts.insert(node, &Unconsolidatable::NotCheaper);

        verdicts.clear();

        assert!(!verdicts.active());
        assert_eq!(verdicts.get(node), None);
        // A verdict stored after the drop is kept.
        verdicts.insert(node, &Unconsolidatable::NeedsManyNodes(2));
        assert_eq!(
            verdicts.get(node),
            Some(&Unconsolidatable::NeedsManyNodes(2))
        );
    }

    #[test]
    fn verdict_dropped_when_pods_change() {
        let (mut world, node) = world_with_node();
        let mut verdicts = SingleNodeVerdicts::default();
        verdicts.start_pass(Some(inputs(node, 1000)));
        verdicts.insert(
            world.cluster.node(node).unwrap(),
            &Unconsolidatable::UninitializedDestination,
        );

        world.add_bound_pod(node, &pod_spec(500, 0));

        assert_eq!(verdicts.get(world.cluster.node(node).unwrap()), None);
    }

    #[test]
    fn balanced_rejection_not_stored() {
        let (world, node) = world_with_node();
        let mut verdicts = SingleNodeVerdicts::default();
        verdicts.start_pass(Some(inputs(node, 1000)));

        verdicts.insert(
            world.cluster.node(node).unwrap(),
            &Unconsolidatable::BalancedScoreTooLow,
        );

        assert_eq!(verdicts.get(world.cluster.node(node).unwrap()), None);
    }
}
