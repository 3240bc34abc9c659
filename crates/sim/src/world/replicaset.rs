//! The ReplicaSet controller's choice of pods to delete on scale-down (kubernetes/kubernetes
//! `pkg/controller/controller_utils.go`, `ActivePodsWithRanks.Less`, with the PodDeletionCost and
//! LogarithmicScaleDown features on, their default since Kubernetes 1.22).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::{Cluster, NodeId, Pod, PodId, PodPhase};

/// The facts of a pod that the ranking reads, copied so that a comparison follows no pointer.
#[derive(Clone, Copy)]
struct Candidate {
    id: PodId,
    assigned: bool,
    /// Whether the pod is Running, which in this model is the same as ready.
    running: bool,
    deletion_cost: i32,
    /// Pods of the same workload on the pod's node (0 for an unassigned pod): the more, the
    /// earlier the pod goes.
    doubled_up: usize,
    /// The bind time, which stands for the ready time that this model does not record.
    ready: SimTime,
    created: SimTime,
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
///
/// NOTE: this is not a total order. Step 6 compares age buckets only when the two ready times
/// differ, and breaks a tie of buckets by UID, so three pods can each rank below the next.
/// Kubernetes sorts with it anyway, and the result for such pods then depends on the sort
/// algorithm and on the informer's list order. [`select_first`] and [`merge_sort`] accept it
/// without a panic, and return the one correct order wherever the pods have a consistent order.
fn compare(a: &Candidate, b: &Candidate, now: SimTime) -> Ordering {
    // 1. Unassigned before assigned.
    if a.assigned != b.assigned {
        return a.assigned.cmp(&b.assigned);
    }
    // 2. Phase Pending (unbound or starting) before Running; 3. not ready before ready.
    if a.running != b.running {
        return a.running.cmp(&b.running);
    }
    // 4. Lower pod-deletion-cost first.
    if a.deletion_cost != b.deletion_cost {
        return a.deletion_cost.cmp(&b.deletion_cost);
    }
    // 5. Doubled up before not doubled up.
    if a.doubled_up != b.doubled_up {
        return b.doubled_up.cmp(&a.doubled_up);
    }
    // 6. Ready for less time first, by powers of two of the age; the UID breaks a tie of ranks.
    if a.running && b.running && a.ready != b.ready {
        let diff = log_rank(now, a.ready) - log_rank(now, b.ready);
        return if diff == 0 {
            a.id.cmp(&b.id)
        } else {
            diff.cmp(&0)
        };
    }
    // 7. Restart counts are not modelled. 8. Newer pods first, by powers of two of the age.
    if a.created != b.created {
        let diff = log_rank(now, a.created) - log_rank(now, b.created);
        return if diff == 0 {
            a.id.cmp(&b.id)
        } else {
            diff.cmp(&0)
        };
    }
    // NOTE: Kubernetes gives pods random UIDs, so the pod id replaces them here. It also
    // breaks the last tie, where the real controller keeps the list order.
    a.id.cmp(&b.id)
}

/// Moves the `count` first items by `less` to the front of `items`, in no particular order.
/// Quickselect with a median-of-three pivot, falling back to [`merge_sort`] after about
/// 2 log2(n) rounds. Unlike the standard library's selection, it does not panic when `less` is
/// not a total order.
fn select_first<T: Copy>(items: &mut [T], count: usize, less: &impl Fn(&T, &T) -> bool) {
    let (mut low, mut high) = (0, items.len());
    let mut rounds_left = 2 * (usize::BITS - items.len().leading_zeros()) + 4;
    while low < count && count < high {
        if rounds_left == 0 {
            merge_sort(&mut items[low..high], less);
            return;
        }
        rounds_left -= 1;
        // The median of the first, middle and last items goes to the end as the pivot.
        let middle = low + (high - low) / 2;
        let last = high - 1;
        if less(&items[middle], &items[low]) {
            items.swap(middle, low);
        }
        if less(&items[last], &items[middle]) {
            items.swap(last, middle);
            if less(&items[middle], &items[low]) {
                items.swap(middle, low);
            }
        }
        items.swap(middle, last);
        let pivot = items[last];
        let mut store = low;
        for index in low..last {
            if less(&items[index], &pivot) {
                items.swap(index, store);
                store += 1;
            }
        }
        items.swap(store, last);
        // Items before `store` come before the pivot, which is now at `store`.
        if count <= store {
            high = store;
        } else {
            low = store + 1;
        }
    }
}

/// Sorts `items` by `less`, stably: insertion sort of runs of 16, then merges of runs of
/// doubling length. Unlike the standard library's sorts, it does not panic when `less` is not
/// a total order.
fn merge_sort<T: Copy>(items: &mut [T], less: &impl Fn(&T, &T) -> bool) {
    const RUN: usize = 16;
    let len = items.len();
    for start in (0..len).step_by(RUN) {
        let end = (start + RUN).min(len);
        for index in start + 1..end {
            let item = items[index];
            let mut hole = index;
            while hole > start && less(&item, &items[hole - 1]) {
                items[hole] = items[hole - 1];
                hole -= 1;
            }
            items[hole] = item;
        }
    }
    if len <= RUN {
        return;
    }
    let mut merged: Vec<T> = Vec::with_capacity(len);
    let mut width = RUN;
    while width < len {
        merged.clear();
        for low in (0..len).step_by(2 * width) {
            let middle = (low + width).min(len);
            let high = (low + 2 * width).min(len);
            let (mut left, mut right) = (low, middle);
            while left < middle && right < high {
                // Taking the right item only when it is strictly first keeps the sort stable.
                if less(&items[right], &items[left]) {
                    merged.push(items[right]);
                    right += 1;
                } else {
                    merged.push(items[left]);
                    left += 1;
                }
            }
            merged.extend_from_slice(&items[left..middle]);
            merged.extend_from_slice(&items[right..high]);
        }
        items.copy_from_slice(&merged);
        width *= 2;
    }
}

/// Returns `count` pods of `pods` to delete, in the ReplicaSet controller's order.
pub(super) fn pods_to_delete(
    cluster: &Cluster,
    ids: &BTreeSet<PodId>,
    count: usize,
    now: SimTime,
) -> Vec<PodId> {
    if count == 0 {
        return Vec::new();
    }
    let pods: Vec<&Pod> = ids.iter().filter_map(|id| cluster.pod(*id)).collect();
    // The pods of the workload on each node: node ids in order, counted by their runs.
    let mut nodes: Vec<NodeId> = pods.iter().filter_map(|p| p.node).collect();
    nodes.sort_unstable();
    let doubled_up = |node: NodeId| {
        let first = nodes.partition_point(|n| *n < node);
        nodes[first..].partition_point(|n| *n == node)
    };
    let mut candidates: Vec<Candidate> = pods
        .iter()
        .map(|pod| Candidate {
            id: pod.id,
            assigned: pod.node.is_some(),
            running: pod.phase == PodPhase::Running,
            deletion_cost: pod.spec.deletion_cost,
            doubled_up: pod.node.map_or(0, doubled_up),
            ready: pod.start_time(),
            created: pod.created,
        })
        .collect();
    let less = |a: &Candidate, b: &Candidate| compare(a, b, now) == Ordering::Less;
    // Where the order is consistent, moving the first `count` to the front and sorting only
    // them gives the same pods in the same order as sorting every pod.
    if count < candidates.len() {
        select_first(&mut candidates, count, &less);
        candidates.truncate(count);
    }
    merge_sort(&mut candidates, &less);
    candidates.into_iter().map(|c| c.id).collect()
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

        let order = pods_to_delete(&cluster, &BTreeSet::from(all), all.len(), now);

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
                pods_to_delete(&cluster, &BTreeSet::from(all), count, now),
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
            pods_to_delete(&cluster, &BTreeSet::from([alone, first, second]), 3, now),
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
            pods_to_delete(&cluster, &BTreeSet::from([older, newer]), 1, now),
            vec![older]
        );
    }

    #[test]
    fn selection_survives_cyclic_order() {
        // Rock, paper, scissors: each value ranks below the next, so no order is consistent.
        // Selection and sorting still finish and keep every item.
        let less = |a: &(u8, u32), b: &(u8, u32)| (a.0 + 1) % 3 == b.0;
        let mut items: Vec<(u8, u32)> = (0..1000).map(|i| ((i * 7 % 3) as u8, i)).collect();

        select_first(&mut items, 400, &less);
        merge_sort(&mut items[..400], &less);

        let mut ids: Vec<u32> = items.iter().map(|item| item.1).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..1000).collect::<Vec<u32>>());
    }

    proptest::proptest! {
        #[test]
        fn selection_matches_full_sort(
            values in proptest::collection::vec(0u32..50, 0..300),
            count in 0usize..320,
        ) {
            // Pairs with the index are distinct, so the first `count` are one set in one order.
            let items: Vec<(u32, usize)> =
                values.iter().enumerate().map(|(index, value)| (*value, index)).collect();
            let count = count.min(items.len());
            let mut expected = items.clone();
            expected.sort_unstable();
            expected.truncate(count);

            let mut selected = items;
            select_first(&mut selected, count, &|a, b| a < b);
            selected.truncate(count);
            merge_sort(&mut selected, &|a, b| a < b);

            proptest::prop_assert_eq!(selected, expected);
        }
    }

    #[test]
    fn pods_outside_workload_ignored() {
        // Only the workload's two pods are candidates, though the others are younger and
        // unbound.
        let mut cluster = Cluster::new(vec![]);
        let node = add_node(&mut cluster);
        let older = pod(&mut cluster, 0, 100, Some(node));
        let newer = pod(&mut cluster, 0, 5000, Some(node));
        for _ in 0..18 {
            pod(&mut cluster, 0, 6000, None);
        }
        let now = SimTime(10_000_000);

        assert_eq!(
            pods_to_delete(&cluster, &BTreeSet::from([older, newer]), 2, now),
            vec![newer, older]
        );
    }
}
