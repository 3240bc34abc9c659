//! Priority preemption of the kube-scheduler stand-in: which pods become victims, on which node,
//! and what happens to the preemptor afterwards, checked against DefaultPreemption's rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{GIB, Price, Resources};
use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::preemption::candidates_to_find;
use autoscale_sim_kube::{
    CapacityType, Cluster, IntOrPercent, LabelSelector, NewNode, NodeId, Owner,
    PodDisruptionBudget, PodId, PodPhase, PodSpec, Preemption, PreemptionPolicy, Scheduler, Taint,
    TaintEffect,
};

/// Adds a Ready node of 4 CPUs, 8 GiB and 110 pod slots.
fn add_node(cluster: &mut Cluster, taints: Vec<Taint>) -> NodeId {
    let id = cluster.add_node(
        NewNode {
            owner: "general".into(),
            instance_type: 0,
            instance_type_name: "m5.xlarge".into(),
            capacity_type: CapacityType::OnDemand,
            zone: "us-east-1a".into(),
            price: Price(192_000),
            labels: BTreeMap::new(),
            taints,
            allocatable: Resources::new(4000, 8 * GIB, 110),
        },
        SimTime(0),
    );
    cluster.mark_ready(id, SimTime(0));
    id
}

fn pod_spec(cpu_millis: i64, priority: i32, app: &str) -> Arc<PodSpec> {
    Arc::new(PodSpec {
        requests: Resources::new(cpu_millis, GIB, 1),
        priority,
        labels: [("app".to_string(), app.to_string())].into(),
        ..Default::default()
    })
}

/// Creates a pod and binds it to `node` at `started` (its start time), Running.
fn running(cluster: &mut Cluster, node: NodeId, spec: Arc<PodSpec>, started: u64) -> PodId {
    let id = cluster.create_pod(Owner::Deployment(0), spec, SimTime(started));
    cluster.bind(id, node, SimTime(started));
    cluster.set_running(id);
    id
}

/// Two full nodes. Node `a` runs two priority-0 pods started at 10 s and 20 s, and node `b` runs
/// a priority-50 pod and a priority-0 pod started at 30 s.
struct TwoNodes {
    cluster: Cluster,
    a: NodeId,
    b: NodeId,
    a_old: PodId,
    a_new: PodId,
    b_mid: PodId,
    b_low: PodId,
}

fn two_nodes() -> TwoNodes {
    let mut cluster = Cluster::new(vec![]);
    let a = add_node(&mut cluster, vec![]);
    let b = add_node(&mut cluster, vec![]);
    let a_old = running(&mut cluster, a, pod_spec(2000, 0, "batch"), 10_000);
    let a_new = running(&mut cluster, a, pod_spec(2000, 0, "batch"), 20_000);
    let b_mid = running(&mut cluster, b, pod_spec(2000, 50, "api"), 10_000);
    let b_low = running(&mut cluster, b, pod_spec(2000, 0, "batch"), 30_000);
    TwoNodes {
        cluster,
        a,
        b,
        a_old,
        a_new,
        b_mid,
        b_low,
    }
}

#[test]
fn preemption_picks_latest_started_victim() {
    let mut world = two_nodes();
    let high = world
        .cluster
        .create_pod(Owner::Bare, pod_spec(2000, 100, "web"), SimTime(40_000));

    let pass = Scheduler::default().schedule(&mut world.cluster, SimTime(40_000));

    // Both nodes need one priority-0 victim; node b's started last, so b wins.
    assert_eq!(
        pass.preemptions,
        vec![Preemption {
            preemptor: high,
            node: world.b,
            victims: vec![world.b_low],
            newly_terminating: vec![world.b_low],
        }]
    );
    assert!(pass.bound.is_empty());
    let pod = world.cluster.pod(high).unwrap();
    assert_eq!(pod.nominated_node, Some(world.b));
    assert!(pod.unschedulable);
    let victim = world.cluster.pod(world.b_low).unwrap();
    assert_eq!(victim.phase, PodPhase::Terminating);
    assert!(victim.preempted);
    assert_eq!(
        world.cluster.pod(world.b_mid).unwrap().phase,
        PodPhase::Running
    );
    assert_eq!(
        world.cluster.pod(world.a_new).unwrap().phase,
        PodPhase::Running
    );
}

#[test]
fn preemption_avoids_pdb_violation() {
    let mut world = two_nodes();
    // A budget that allows no disruption covers node b's batch pod. Node a's batch pods carry
    // the same app label, so the budget selects node b's pod by a label of its own.
    let mut spec = (*world.cluster.pod(world.b_low).unwrap().spec).clone();
    spec.labels.insert("shard".into(), "b".into());
    world.cluster.delete_pod(world.b_low, SimTime(30_000));
    let b_low = running(&mut world.cluster, world.b, Arc::new(spec), 30_000);
    world.cluster.set_pdbs(vec![PodDisruptionBudget {
        name: "shard-b".into(),
        namespace: String::new(),
        selector: LabelSelector {
            match_labels: [("shard".to_string(), "b".to_string())].into(),
            ..Default::default()
        },
        min_available: Some(IntOrPercent::Int(1)),
        max_unavailable: None,
    }]);
    let high = world
        .cluster
        .create_pod(Owner::Bare, pod_spec(2000, 100, "web"), SimTime(40_000));

    let pass = Scheduler::default().schedule(&mut world.cluster, SimTime(40_000));

    assert_eq!(pass.preemptions.len(), 1);
    assert_eq!(pass.preemptions[0].preemptor, high);
    assert_eq!(pass.preemptions[0].node, world.a);
    assert_eq!(pass.preemptions[0].victims, vec![world.a_new]);
    assert_eq!(world.cluster.pod(b_low).unwrap().phase, PodPhase::Running);
    assert_eq!(
        world.cluster.pod(world.a_old).unwrap().phase,
        PodPhase::Running
    );
}

#[test]
fn preemption_prefers_lowest_highest_victim_priority() {
    let mut cluster = Cluster::new(vec![]);
    let a = add_node(&mut cluster, vec![]);
    let b = add_node(&mut cluster, vec![]);
    // Node a: one victim of priority 10. Node b: two victims of priority 5 and 1, which loses
    // on the victim count but wins on the highest victim priority, the earlier rule.
    let a_pod = running(&mut cluster, a, pod_spec(4000, 10, "x"), 1_000);
    let b_one = running(&mut cluster, b, pod_spec(2000, 5, "y"), 1_000);
    let b_two = running(&mut cluster, b, pod_spec(2000, 1, "z"), 1_000);
    let high = cluster.create_pod(Owner::Bare, pod_spec(3000, 100, "web"), SimTime(5_000));

    let pass = Scheduler::default().schedule(&mut cluster, SimTime(5_000));

    assert_eq!(pass.preemptions.len(), 1);
    assert_eq!(pass.preemptions[0].preemptor, high);
    assert_eq!(pass.preemptions[0].node, b);
    assert_eq!(pass.preemptions[0].victims, vec![b_one, b_two]);
    assert_eq!(cluster.pod(a_pod).unwrap().phase, PodPhase::Running);
}

#[test]
fn preemption_reprieves_most_important_first() {
    let mut cluster = Cluster::new(vec![]);
    let node = add_node(&mut cluster, vec![]);
    let p1 = running(&mut cluster, node, pod_spec(1000, 1, "a"), 1_000);
    let p2 = running(&mut cluster, node, pod_spec(1000, 2, "b"), 1_000);
    let p3 = running(&mut cluster, node, pod_spec(1000, 3, "c"), 1_000);
    let p4 = running(&mut cluster, node, pod_spec(1000, 4, "d"), 1_000);
    cluster.create_pod(Owner::Bare, pod_spec(2000, 100, "web"), SimTime(2_000));

    let pass = Scheduler::default().schedule(&mut cluster, SimTime(2_000));

    // p4 and p3 are added back first and fit; p2 and p1 must go.
    assert_eq!(pass.preemptions[0].victims, vec![p2, p1]);
    assert_eq!(cluster.pod(p3).unwrap().phase, PodPhase::Running);
    assert_eq!(cluster.pod(p4).unwrap().phase, PodPhase::Running);
}

#[test]
fn preemption_policy_never_waits() {
    let mut world = two_nodes();
    let spec = PodSpec {
        preemption_policy: PreemptionPolicy::Never,
        ..(*pod_spec(2000, 100, "web")).clone()
    };
    let high = world
        .cluster
        .create_pod(Owner::Bare, Arc::new(spec), SimTime(40_000));

    let pass = Scheduler::default().schedule(&mut world.cluster, SimTime(40_000));

    assert!(pass.preemptions.is_empty());
    assert_eq!(pass.newly_unschedulable, vec![high]);
    assert_eq!(world.cluster.pod(high).unwrap().nominated_node, None);
}

#[test]
fn preemption_skips_unresolvable_nodes() {
    let mut cluster = Cluster::new(vec![]);
    let tainted = add_node(
        &mut cluster,
        vec![Taint {
            key: "dedicated".into(),
            value: "batch".into(),
            effect: TaintEffect::NoSchedule,
        }],
    );
    // The low pod tolerates the taint; the high pod does not, so TaintToleration rejects the
    // node as UnschedulableAndUnresolvable and preemption does not try it.
    let mut low = (*pod_spec(4000, 0, "batch")).clone();
    low.tolerations.push(autoscale_sim_kube::Toleration {
        key: "dedicated".into(),
        value: "batch".into(),
        ..Default::default()
    });
    let victim = running(&mut cluster, tainted, Arc::new(low), 1_000);
    let high = cluster.create_pod(Owner::Bare, pod_spec(1000, 100, "web"), SimTime(2_000));

    let pass = Scheduler::default().schedule(&mut cluster, SimTime(2_000));

    assert!(pass.preemptions.is_empty());
    assert_eq!(pass.newly_unschedulable, vec![high]);
    assert_eq!(cluster.pod(victim).unwrap().phase, PodPhase::Running);
}

#[test]
fn equal_priority_is_never_preempted() {
    let mut cluster = Cluster::new(vec![]);
    let node = add_node(&mut cluster, vec![]);
    let same = running(&mut cluster, node, pod_spec(4000, 100, "x"), 1_000);
    let pod = cluster.create_pod(Owner::Bare, pod_spec(1000, 100, "web"), SimTime(2_000));

    let pass = Scheduler::default().schedule(&mut cluster, SimTime(2_000));

    assert!(pass.preemptions.is_empty());
    assert_eq!(pass.newly_unschedulable, vec![pod]);
    assert_eq!(cluster.pod(same).unwrap().phase, PodPhase::Running);
}

#[test]
fn nominated_pod_waits_then_binds_there() {
    let mut world = two_nodes();
    let high = world
        .cluster
        .create_pod(Owner::Bare, pod_spec(2000, 100, "web"), SimTime(40_000));
    let mut scheduler = Scheduler::default();
    scheduler.schedule(&mut world.cluster, SimTime(40_000));

    // While the victim terminates, the pod neither binds nor preempts again.
    let waiting = scheduler.schedule(&mut world.cluster, SimTime(41_000));
    assert!(waiting.preemptions.is_empty());
    assert!(waiting.bound.is_empty());
    assert_eq!(
        world.cluster.pod(high).unwrap().nominated_node,
        Some(world.b)
    );

    // A lower-priority pod cannot take the space reserved for the nominated pod.
    world.cluster.delete_pod(world.b_low, SimTime(70_000));
    let low = pod_spec(2000, 0, "batch");
    assert_eq!(
        scheduler.pick_node_for(&world.cluster, PodId(999), &low),
        None
    );

    let pass = scheduler.schedule(&mut world.cluster, SimTime(70_000));
    assert_eq!(pass.bound, vec![(high, world.b)]);
    assert_eq!(world.cluster.pod(high).unwrap().nominated_node, None);
}

#[test]
fn candidate_count_follows_defaults() {
    assert_eq!(candidates_to_find(0), 0);
    assert_eq!(candidates_to_find(40), 40);
    assert_eq!(candidates_to_find(500), 100);
    assert_eq!(candidates_to_find(5000), 500);
}
