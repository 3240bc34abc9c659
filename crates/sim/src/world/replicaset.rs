//! The ReplicaSet controller's choice of pods to delete on scale-down (kubernetes/kubernetes
//! `pkg/controller/controller_utils.go`, `ActivePodsWithRanks.Less`, with the PodDeletionCost and
//! LogarithmicScaleDown features on, their default since Kubernetes 1.22).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::{Cluster, NodeId, Pod, PodId, PodPhase};

/// A pod with the facts the ranking reads of it.
struct Candidate<'a> {
    pod: &'a Pod,
    /// Pods of the same workload on the pod's node (0 for an unassigned pod): the more, the
    /// earlier the pod goes.
    doubled_up: usize,
}

/// `floor(log2(now − time))` of a duration in nanoseconds, or −1 when it is not positive, as
/// `logarithmicRankDiff` buckets pod ages.
fn log_rank(now: SimTime, time: SimTime) -> i64 {
    let nanos = now.since(time).as_millis() as u128 * 1_000_000;
    if nanos == 0 {
        -1
    } else {
        i64::from(u128::BITS - 1 - nanos.leading_zeros())
    }
}

/// Orders two pods as `ActivePodsWithRanks.Less`: the one to delete first is `Less`.
fn compare(a: &Candidate<'_>, b: &Candidate<'_>, now: SimTime) -> Ordering {
    let (pa, pb) = (a.pod, b.pod);

    // 1. Unassigned before assigned.
    let assigned = |p: &Pod| p.node.is_some();
    if assigned(pa) != assigned(pb) {
        return assigned(pa).cmp(&assigned(pb));
    }
    // 2. Phase Pending (unbound or starting) before Running; 3. not ready before ready. In this
    // model a pod is ready exactly when it is Running.
    let running = |p: &Pod| p.phase == PodPhase::Running;
    if running(pa) != running(pb) {
        return running(pa).cmp(&running(pb));
    }
    // 4. Lower pod-deletion-cost first.
    if pa.spec.deletion_cost != pb.spec.deletion_cost {
        return pa.spec.deletion_cost.cmp(&pb.spec.deletion_cost);
    }
    // 5. Doubled up before not doubled up.
    if a.doubled_up != b.doubled_up {
        return b.doubled_up.cmp(&a.doubled_up);
    }
    // 6. Ready for less time first, by powers of two of the age; the UID breaks a tie of ranks.
    // NOTE: the bind time stands for the ready time, which this model does not record.
    if running(pa) && running(pb) {
        let (ra, rb) = (pa.start_time(), pb.start_time());
        if ra != rb {
            let diff = log_rank(now, ra) - log_rank(now, rb);
            return if diff == 0 {
                pa.id.cmp(&pb.id)
            } else {
                diff.cmp(&0)
            };
        }
    }
    // 7. Restart counts are not modelled. 8. Newer pods first, by powers of two of the age.
    if pa.created != pb.created {
        let diff = log_rank(now, pa.created) - log_rank(now, pb.created);
        return if diff == 0 {
            pa.id.cmp(&pb.id)
        } else {
            diff.cmp(&0)
        };
    }
    // NOTE: Kubernetes gives pods random UIDs, so the pod id replaces them here. It also
    // breaks the last tie, where the real controller keeps the list order.
    pa.id.cmp(&pb.id)
}

/// Returns `count` pods of `pods` to delete, in the ReplicaSet controller's order.
pub(super) fn pods_to_delete(
    cluster: &Cluster,
    pods: impl Iterator<Item = PodId>,
    count: usize,
    now: SimTime,
) -> Vec<PodId> {
    let pods: Vec<&Pod> = pods.filter_map(|id| cluster.pod(id)).collect();
    let mut per_node: BTreeMap<NodeId, usize> = BTreeMap::new();
    for node in pods.iter().filter_map(|p| p.node) {
        *per_node.entry(node).or_insert(0) += 1;
    }
    let mut candidates: Vec<Candidate<'_>> = pods
        .iter()
        .map(|pod| Candidate {
            pod,
            doubled_up: pod.node.map_or(0, |n| per_node[&n]),
        })
        .collect();
    // `compare` ends on the pod id, a total order, so moving the first `count` to the front
    // and sorting only them gives the same pods in the same order as sorting every pod.
    if count == 0 {
        return Vec::new();
    }
    if count < candidates.len() {
        candidates.select_nth_unstable_by(count - 1, |a, b| compare(a, b, now));
        candidates.truncate(count);
    }
    candidates.sort_by(|a, b| compare(a, b, now));
    candidates.into_iter().map(|c| c.pod.id).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use autoscale_sim_cloud::{Price, Resources};
    use autoscale_sim_kube::{CapacityType, NewNode, Owner, PodSpec};

    use super::*;

    fn add_node(cluster: &mut Cluster) -> NodeId {
        let id = cluster.add_node(
            NewNode {
                owner: "general".into(),
                instance_type: 0,
                instance_type_name: "m5.xlarge".into(),
                capacity_type: CapacityType::OnDemand,
                zone: "us-east-1a".into(),
                price: Price(192_000),
                labels: Default::default(),
                taints: vec![],
                allocatable: Resources::new(16_000, 1 << 36, 110),
            },
            SimTime(0),
        );
        cluster.mark_ready(id, SimTime(0));
        id
    }

    fn spec(deletion_cost: i32) -> Arc<PodSpec> {
        Arc::new(PodSpec {
            requests: Resources::new(100, 1 << 20, 1),
            deletion_cost,
            ..Default::default()
        })
    }

    /// Creates a pod at `created_secs`, bound and Running on `node` when given.
    fn pod(cluster: &mut Cluster, cost: i32, created_secs: u64, node: Option<NodeId>) -> PodId {
        let at = SimTime(created_secs * 1000);
        let id = cluster.create_pod(Owner::Deployment(0), spec(cost), at);
        if let Some(node) = node {
            cluster.bind(id, node, at);
            cluster.set_running(id);
        }
        id
    }

    #[test]
    fn scale_down_order_follows_replicaset_ranking() {
        let mut cluster = Cluster::new(vec![]);
        let crowded = add_node(&mut cluster);
        let alone = add_node(&mut cluster);
        let unbound = pod(&mut cluster, 0, 10, None);
        let starting = cluster.create_pod(Owner::Deployment(0), spec(0), SimTime(20_000));
        cluster.bind(starting, alone, SimTime(20_000));
        let costly = pod(&mut cluster, 100, 30, Some(crowded));
        let cheap = pod(&mut cluster, -5, 40, Some(alone));
        let crowded_old = pod(&mut cluster, 0, 50, Some(crowded));
        let crowded_new = pod(&mut cluster, 0, 1000, Some(crowded));
        let all = [unbound, starting, costly, cheap, crowded_old, crowded_new];
        let now = SimTime(2_000_000);

        let order = pods_to_delete(&cluster, all.into_iter(), all.len(), now);

        // Unassigned, then not Running, then the lowest deletion cost. Among the pods of cost 0
        // the younger goes first by powers of two of the age (1,000 s against 1,950 s: log2
        // buckets 39 and 40 in nanoseconds). The costly pod goes last.
        assert_eq!(
            order,
            vec![unbound, starting, cheap, crowded_new, crowded_old, costly]
        );

        // Asking for fewer pods gives the first ones of the same order.
        for count in 0..all.len() {
            assert_eq!(
                pods_to_delete(&cluster, all.into_iter(), count, now),
                order[..count],
                "count {count}"
            );
        }
    }

    #[test]
    fn doubled_up_pods_go_first() {
        let mut cluster = Cluster::new(vec![]);
        let shared = add_node(&mut cluster);
        let own = add_node(&mut cluster);
        let alone = pod(&mut cluster, 0, 100, Some(own));
        let first = pod(&mut cluster, 0, 100, Some(shared));
        let second = pod(&mut cluster, 0, 100, Some(shared));
        let now = SimTime(1_000_000);

        // Same cost and age: the two pods sharing a node go before the one alone on its node,
        // though it has the lowest id.
        assert_eq!(
            pods_to_delete(&cluster, [alone, first, second].into_iter(), 3, now),
            vec![first, second, alone]
        );
    }

    #[test]
    fn same_age_bucket_falls_back_to_id() {
        let mut cluster = Cluster::new(vec![]);
        let node = add_node(&mut cluster);
        let older = pod(&mut cluster, 0, 100, Some(node));
        let newer = pod(&mut cluster, 0, 110, Some(node));
        let now = SimTime(1_100_000);

        // 1,000 s and 990 s are both in bucket 39 (2^39 ns is about 550 s), so the lower id,
        // the older pod, goes first, where plain age would pick the newer one.
        assert_eq!(log_rank(now, SimTime(100_000)), 39);
        assert_eq!(log_rank(now, SimTime(110_000)), 39);
        assert_eq!(
            pods_to_delete(&cluster, [older, newer].into_iter(), 1, now),
            vec![older]
        );
    }
}
