//! The run invariants catch a policy that breaks what it may not: each test runs a policy
//! written to break one rule and checks that the run stops with the invariant's message.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use autoscale_sim_cloud::{GIB, Resources};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::{CapacityType, NodeState, PodSpec};
use autoscale_sim_policy::{
    Actions, Autoscaler, ClusterView, DisruptionReason, LaunchRequest, PolicyEvent,
};
use autoscale_sim_sim::Simulation;

/// Launches one m5.large with `annotations` at the start and deletes it for `reason` once a pod
/// is bound to it.
struct DeleteBusyNode {
    reason: DisruptionReason,
    annotations: BTreeMap<String, String>,
    deleted: bool,
}

impl Autoscaler for DeleteBusyNode {
    fn name(&self) -> &str {
        "delete-busy-node"
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        if matches!(event, PolicyEvent::Start) {
            actions.launch(LaunchRequest {
                owner: "test".into(),
                instance_type: view.catalog.index_of("m5.large").unwrap(),
                capacity_type: CapacityType::OnDemand,
                zone: view.zones[0].clone(),
                labels: Default::default(),
                taints: vec![],
                annotations: self.annotations.clone(),
                reason: "start".into(),
                alternatives: vec![],
            });
        }
        actions.set_timer(view.now + SimDuration::from_mins(1), 0);
        if self.deleted {
            return;
        }
        if let Some(node) = view
            .cluster
            .nodes()
            .find(|n| n.state == NodeState::Ready && !n.pods.is_empty())
        {
            actions.delete_node(node.id, self.reason, "test".into());
            self.deleted = true;
        }
    }
}

/// Runs one pod of `spec` for an hour under a policy that deletes its node for `reason`, and
/// returns the panic message, if the run panicked.
fn run_deleting(spec: PodSpec, reason: DisruptionReason) -> Option<String> {
    run_deleting_annotated(spec, reason, BTreeMap::new())
}

/// Runs [`run_deleting`] with a node that carries `annotations`.
fn run_deleting_annotated(
    spec: PodSpec,
    reason: DisruptionReason,
    annotations: BTreeMap<String, String>,
) -> Option<String> {
    let simulation = Simulation::builder("invariants")
        .duration(SimDuration::from_hours(1))
        .deployment("app", spec, 1)
        .configure(|config| config.check_invariants = true)
        .build()
        .unwrap();
    let policy = DeleteBusyNode {
        reason,
        annotations,
        deleted: false,
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        simulation.run_with(Box::new(policy));
    }));
    outcome.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    })
}

fn small_pod() -> PodSpec {
    PodSpec {
        requests: Resources::new(500, GIB, 1),
        ..Default::default()
    }
}

#[test]
fn consolidation_of_do_not_disrupt_pod_caught() {
    let spec = PodSpec {
        do_not_disrupt: true,
        ..small_pod()
    };
    let message = run_deleting(spec, DisruptionReason::Underutilized).expect("the run stops");
    assert!(
        message.contains("invariant violated") && message.contains("(Underutilized) although app-"),
        "{message}"
    );
}

#[test]
fn scale_down_of_unsafe_pod_caught() {
    let spec = PodSpec {
        safe_to_evict: Some(false),
        ..small_pod()
    };
    let message = run_deleting(spec, DisruptionReason::ScaleDown).expect("the run stops");
    assert!(message.contains("(ScaleDown) although app-"), "{message}");
}

#[test]
fn allowed_deletions_pass() {
    // The same pods under the other policy's reason, and a plain pod, are no violation.
    let do_not_disrupt = PodSpec {
        do_not_disrupt: true,
        ..small_pod()
    };
    assert_eq!(
        run_deleting(do_not_disrupt, DisruptionReason::ScaleDown),
        None
    );
    assert_eq!(
        run_deleting(small_pod(), DisruptionReason::Underutilized),
        None
    );
}

#[test]
fn drift_of_annotated_node_caught() {
    let pinned = BTreeMap::from([(
        "karpenter.sh/do-not-disrupt".to_string(),
        "true".to_string(),
    )]);
    let message = run_deleting_annotated(small_pod(), DisruptionReason::Drifted, pinned.clone())
        .expect("the run stops");
    assert!(
        message.contains("(Drifted) although its karpenter.sh/do-not-disrupt annotation"),
        "{message}"
    );
    // Expiration is forceful, so it may delete the node.
    assert_eq!(
        run_deleting_annotated(small_pod(), DisruptionReason::Expired, pinned),
        None
    );
}

#[test]
fn consolidation_of_protected_pod_caught() {
    // A duration value protects the pod from its start, when the policy deletes the node.
    let spec = PodSpec {
        do_not_disrupt_for: Some(SimDuration::from_mins(30)),
        ..small_pod()
    };
    let message = run_deleting(spec, DisruptionReason::Underutilized).expect("the run stops");
    assert!(
        message.contains("(Underutilized) although app-"),
        "{message}"
    );
}
