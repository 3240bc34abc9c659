//! The decision-log note for a node that its own state keeps from being disrupted. Karpenter's
//! `NewCandidate` publishes a `DisruptionBlocked` event on a Karpenter-managed node when
//! `ValidateNodeDisruptable` fails (kubernetes-sigs/karpenter v1.14.1
//! `pkg/controllers/disruption/types.go`, `pkg/controllers/state/statenode.go`). Of its checks,
//! the model applies four: the node is not initialized, it is deleting or marked for deletion,
//! a recent provisioning pass nominated it for pending pods, or it has the
//! `karpenter.sh/do-not-disrupt: "true"` annotation. That annotation comes from the NodePool's
//! template or from a library user. A node already held by a disruption command gets no event there, because
//! `NewCandidate` returns before the checks. This note is written once per node and cause, like
//! the pod-level ones.
//!
//! NOTE: a launching NodeClaim with no Node yet is noted as not initialized, although
//! Karpenter words that case differently.

use std::collections::BTreeMap;

use autoscale_sim_kube::{Node, NodeId, NodeState};

use super::{DO_NOT_DISRUPT, Karpenter};
use crate::api::{Actions, ClusterView};

/// Node-level cause that keeps a node from being a disruption candidate, in the order of
/// `ValidateNodeDisruptable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NodeBlock {
    /// The node is launching and not initialized yet.
    NotInitialized,
    /// The node is being deleted, or cordoned for deletion.
    Deleting,
    /// A provisioning pass nominated the node for pending pods, and the nomination holds.
    Nominated,
    /// The node has the do-not-disrupt annotation.
    DoNotDisrupt,
}

impl NodeBlock {
    fn describe(self) -> &'static str {
        match self {
            NodeBlock::NotInitialized => "the node is not initialized yet",
            NodeBlock::Deleting => "the node is being deleted",
            NodeBlock::Nominated => {
                "the node is nominated for pending pods that a provisioning pass placed on it"
            }
            NodeBlock::DoNotDisrupt => "the node has the karpenter.sh/do-not-disrupt annotation",
        }
    }
}

impl Karpenter {
    /// Writes a `disruption-blocked` note for each NodePool node that a node-level check keeps
    /// from being a candidate, the first time each cause blocks it. `noted` contains the causes
    /// noted for each node.
    pub(super) fn note_blocked_nodes(
        &self,
        noted: &mut BTreeMap<NodeId, Vec<NodeBlock>>,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        for node in view.cluster.nodes() {
            if let Some(block) = self.node_block(node, view) {
                note_once(noted, node.id, block, actions, || {
                    block.describe().to_string()
                });
            }
        }
    }

    /// Returns the first node-level cause that keeps `node` from being a candidate, if any. A
    /// node outside every NodePool or held by a command has none, because Karpenter publishes
    /// no event for it.
    fn node_block(&self, node: &Node, view: &ClusterView<'_>) -> Option<NodeBlock> {
        if self.pool_index(&node.owner).is_none() || self.disrupting.contains(&node.id) {
            return None;
        }
        if node.state == NodeState::Launching {
            return Some(NodeBlock::NotInitialized);
        }
        if node.state == NodeState::Deleting || node.cordoned {
            return Some(NodeBlock::Deleting);
        }
        let nominated = self
            .nominated_until
            .get(&node.id)
            .is_some_and(|until| *until > view.now);
        if nominated {
            return Some(NodeBlock::Nominated);
        }
        has_do_not_disrupt(node).then_some(NodeBlock::DoNotDisrupt)
    }
}

/// Checks whether `node` has the annotation `karpenter.sh/do-not-disrupt: "true"`. As in
/// Karpenter, any other value does not block.
pub(super) fn has_do_not_disrupt(node: &Node) -> bool {
    node.annotations
        .get(DO_NOT_DISRUPT)
        .is_some_and(|value| value == "true")
}

/// Writes a `disruption-blocked` note on `node` with the detail `describe` returns, unless
/// `noted` shows that `cause` was noted for the node before, and records the cause.
pub(super) fn note_once<Cause: PartialEq>(
    noted: &mut BTreeMap<NodeId, Vec<Cause>>,
    node: NodeId,
    cause: Cause,
    actions: &mut Actions,
    describe: impl FnOnce() -> String,
) {
    let causes = noted.entry(node).or_default();
    if causes.contains(&cause) {
        return;
    }
    causes.push(cause);
    actions.note(
        Some(node),
        "disruption-blocked",
        "DisruptionBlocked",
        describe(),
    );
}
