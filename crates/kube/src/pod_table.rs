//! The cluster's pods, found by id in constant time and listed in id order.

use std::collections::BTreeSet;

use crate::objects::{Pod, PodId};

/// Position in [`PodTable::index`] of an id whose pod does not exist.
const NO_POD: u32 = u32::MAX;

/// Pods in a dense vector, with the position of each id in a vector indexed by id.
///
/// The scheduler, both autoscalers and the world look pods up by id many times per event, and
/// here a lookup is two vector reads instead of a descent through a `BTreeMap`. Pod ids are
/// counters that grow with every pod created, so the index is a vector with one entry of four
/// bytes per pod ever created. Iteration in id order goes through a set of the existing ids.
#[derive(Clone, Debug, Default)]
pub(crate) struct PodTable {
    /// Position in `pods` of each id, or [`NO_POD`].
    index: Vec<u32>,
    /// The existing pods, in no particular order.
    pods: Vec<Pod>,
    /// Ids of the existing pods.
    ids: BTreeSet<PodId>,
}

impl PodTable {
    /// Adds `pod`, whose id must be greater than every id added before.
    pub(crate) fn insert(&mut self, pod: Pod) {
        let id = slot_of(pod.id);
        assert!(
            id >= self.index.len(),
            "pod {} added after pod {}: ids must grow",
            pod.id,
            self.index.len() - 1
        );
        let position = u32::try_from(self.pods.len())
            .ok()
            .filter(|position| *position != NO_POD)
            .expect("fewer than 2^32 - 1 pods exist at once");
        self.index.resize(id, NO_POD);
        self.index.push(position);
        self.ids.insert(pod.id);
        self.pods.push(pod);
    }

    /// Position in `pods` of pod `id`, if it exists.
    #[inline]
    fn position(&self, id: PodId) -> Option<usize> {
        let position = *self.index.get(slot_of(id))?;
        (position != NO_POD).then_some(position as usize)
    }

    /// Returns the pod `id`.
    #[inline]
    pub(crate) fn get(&self, id: PodId) -> Option<&Pod> {
        self.position(id).map(|position| &self.pods[position])
    }

    /// Returns the pod `id` for a change.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: PodId) -> Option<&mut Pod> {
        self.position(id).map(|position| &mut self.pods[position])
    }

    /// Removes and returns the pod `id`. The last pod of the dense vector takes its place.
    pub(crate) fn remove(&mut self, id: PodId) -> Option<Pod> {
        let position = self.position(id)?;
        self.index[slot_of(id)] = NO_POD;
        self.ids.remove(&id);
        let pod = self.pods.swap_remove(position);
        if let Some(moved) = self.pods.get(position) {
            self.index[slot_of(moved.id)] = position as u32;
        }
        Some(pod)
    }

    /// Number of existing pods.
    pub(crate) fn len(&self) -> usize {
        self.pods.len()
    }

    /// Iterates over the existing pods in id order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Pod> + '_ {
        self.ids
            .iter()
            .map(|id| &self.pods[self.index[slot_of(*id)] as usize])
    }
}

/// Index of pod `id` in [`PodTable::index`].
#[inline]
fn slot_of(id: PodId) -> usize {
    usize::try_from(id.0).expect("pod ids fit in usize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{Owner, PodPhase};
    use autoscale_sim_engine::SimTime;
    use std::sync::Arc;

    fn pod(id: u64) -> Pod {
        Pod {
            id: PodId(id),
            owner: Owner::Bare,
            spec: Arc::default(),
            phase: PodPhase::Pending,
            unschedulable: false,
            unschedulable_since: None,
            node: None,
            created: SimTime(0),
            bound_at: None,
            nominated_node: None,
            preempted: false,
        }
    }

    #[test]
    fn removal_keeps_lookups_and_order() {
        let mut table = PodTable::default();
        for id in [0, 1, 2, 5, 6] {
            table.insert(pod(id));
        }

        assert_eq!(table.remove(PodId(1)).map(|p| p.id), Some(PodId(1)));
        assert!(table.remove(PodId(1)).is_none());
        assert!(table.remove(PodId(3)).is_none());
        assert!(table.remove(PodId(99)).is_none());

        assert_eq!(table.len(), 4);
        for id in [0, 2, 5, 6] {
            assert_eq!(table.get(PodId(id)).map(|p| p.id), Some(PodId(id)));
        }
        assert!(table.get(PodId(1)).is_none());
        assert!(table.get(PodId(4)).is_none());
        let order: Vec<u64> = table.values().map(|p| p.id.0).collect();
        assert_eq!(order, vec![0, 2, 5, 6]);
    }

    #[test]
    fn get_mut_changes_the_pod() {
        let mut table = PodTable::default();
        table.insert(pod(3));
        table.insert(pod(4));
        table.remove(PodId(3));

        table.get_mut(PodId(4)).expect("pod 4 exists").preempted = true;

        assert!(table.get(PodId(4)).is_some_and(|p| p.preempted));
    }

    #[test]
    #[should_panic(expected = "ids must grow")]
    fn insert_rejects_smaller_id() {
        let mut table = PodTable::default();
        table.insert(pod(2));
        table.insert(pod(1));
    }
}
