//! A map from node id to a small value, kept as a vector sorted by id.

use autoscale_sim_kube::NodeId;

/// Entries sorted by node id.
///
/// Scale-down reads the entries in id order alongside the nodes, which gives each candidate's
/// position. It replaces an entry at its position ([`NodeMap::set_at`]) and merges the entries
/// it adds or removes in one pass per loop ([`NodeMap::apply`]), with no search per candidate.
/// Removing one id is a binary search and shifts the later entries.
#[derive(Clone, Debug)]
pub(super) struct NodeMap<V> {
    entries: Vec<(NodeId, V)>,
}

impl<V> Default for NodeMap<V> {
    fn default() -> Self {
        NodeMap {
            entries: Vec::new(),
        }
    }
}

impl<V> NodeMap<V> {
    /// Sets the value of `id` and returns the previous one. Only the tests use it, as the
    /// reference that [`apply`](Self::apply) must match.
    #[cfg(test)]
    pub(super) fn insert(&mut self, id: NodeId, value: V) -> Option<V> {
        if self.entries.last().is_none_or(|(last, _)| *last < id) {
            self.entries.push((id, value));
            return None;
        }
        match self.entries.binary_search_by_key(&id, |(key, _)| *key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (id, value));
                None
            }
        }
    }

    /// Removes `id` and returns its value.
    pub(super) fn remove(&mut self, id: NodeId) -> Option<V> {
        let index = self
            .entries
            .binary_search_by_key(&id, |(key, _)| *key)
            .ok()?;
        Some(self.entries.remove(index).1)
    }

    /// Returns the entries in id order. The entry returned n-th is at position n until the
    /// next [`apply`](Self::apply) or [`remove`](Self::remove).
    pub(super) fn iter(&self) -> impl Iterator<Item = (NodeId, &V)> + '_ {
        self.entries.iter().map(|(id, value)| (*id, value))
    }

    /// Number of entries.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns the id and value of the entry at `position` (see [`iter`](Self::iter)).
    pub(super) fn entry_at(&self, position: usize) -> (NodeId, &V) {
        let (id, value) = &self.entries[position];
        (*id, value)
    }

    /// Replaces the value of the entry at `position` (see [`iter`](Self::iter)).
    pub(super) fn set_at(&mut self, position: usize, value: V) {
        self.entries[position].1 = value;
    }

    /// Applies `writes` as if each were an [`insert`](Self::insert) (`Some`) or a
    /// [`remove`](Self::remove) (`None`) in turn, in one merge over the entries, and leaves
    /// `writes` empty. Each id may appear in `writes` at most once, which debug builds check.
    pub(super) fn apply(&mut self, writes: &mut Vec<(NodeId, Option<V>)>) {
        if writes.is_empty() {
            return;
        }
        // A stable sort finds the runs that are already in id order and merges them.
        writes.sort_by_key(|(id, _)| *id);
        debug_assert!(
            writes.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "an id appears twice in the writes"
        );
        let old = std::mem::take(&mut self.entries);
        self.entries.reserve(old.len() + writes.len());
        let mut old = old.into_iter().peekable();
        for (id, write) in writes.drain(..) {
            while let Some(entry) = old.next_if(|(key, _)| *key < id) {
                self.entries.push(entry);
            }
            // The old value of `id`, if any, is replaced or removed.
            old.next_if(|(key, _)| *key == id);
            if let Some(value) = write {
                self.entries.push((id, value));
            }
        }
        self.entries.extend(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_map_keeps_id_order() {
        let mut map = NodeMap::default();
        assert_eq!(map.insert(NodeId(5), 'a'), None);
        assert_eq!(map.insert(NodeId(9), 'b'), None);
        assert_eq!(map.insert(NodeId(2), 'c'), None);
        assert_eq!(map.insert(NodeId(7), 'd'), None);
        let order: Vec<(NodeId, char)> = map.iter().map(|(id, v)| (id, *v)).collect();
        assert_eq!(
            order,
            vec![
                (NodeId(2), 'c'),
                (NodeId(5), 'a'),
                (NodeId(7), 'd'),
                (NodeId(9), 'b')
            ]
        );
    }

    #[test]
    fn node_map_insert_returns_previous() {
        let mut map = NodeMap::default();
        map.insert(NodeId(1), 10);
        map.insert(NodeId(3), 30);
        assert_eq!(map.insert(NodeId(1), 11), Some(10));
        assert_eq!(map.insert(NodeId(3), 31), Some(30));
        let values: Vec<i32> = map.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, vec![11, 31]);
    }

    #[test]
    fn node_map_apply_matches_one_by_one() {
        let mut batched = NodeMap::default();
        let mut one_by_one = NodeMap::default();
        for id in [2, 4, 6, 8] {
            batched.insert(NodeId(id), id * 10);
            one_by_one.insert(NodeId(id), id * 10);
        }
        // Two runs in id order, as scale-down writes them: replace, remove, add in the middle,
        // at the front and at the end.
        let mut writes = vec![
            (NodeId(4), Some(41)),
            (NodeId(6), None),
            (NodeId(9), Some(90)),
            (NodeId(1), Some(10)),
            (NodeId(5), Some(50)),
            (NodeId(8), None),
            (NodeId(7), None),
        ];
        for (id, write) in writes.clone() {
            match write {
                Some(value) => {
                    one_by_one.insert(id, value);
                }
                None => {
                    one_by_one.remove(id);
                }
            }
        }
        batched.apply(&mut writes);

        assert!(writes.is_empty());
        let expected: Vec<(NodeId, u64)> = one_by_one.iter().map(|(id, v)| (id, *v)).collect();
        let actual: Vec<(NodeId, u64)> = batched.iter().map(|(id, v)| (id, *v)).collect();
        assert_eq!(actual, expected);
        assert_eq!(
            actual,
            vec![
                (NodeId(1), 10),
                (NodeId(2), 20),
                (NodeId(4), 41),
                (NodeId(5), 50),
                (NodeId(9), 90)
            ]
        );
    }

    #[test]
    fn node_map_set_at_position() {
        let mut map = NodeMap::default();
        for id in [3, 5, 8] {
            map.insert(NodeId(id), id);
        }
        let position = map.iter().position(|(id, _)| id == NodeId(5)).unwrap();
        map.set_at(position, 50);
        assert_eq!(map.len(), 3);
        assert_eq!(map.entry_at(position), (NodeId(5), &50));
        let entries: Vec<(NodeId, u64)> = map.iter().map(|(id, v)| (id, *v)).collect();
        assert_eq!(
            entries,
            vec![(NodeId(3), 3), (NodeId(5), 50), (NodeId(8), 8)]
        );
    }

    #[test]
    fn node_map_remove() {
        let mut map = NodeMap::default();
        for id in [1, 2, 3] {
            map.insert(NodeId(id), id);
        }
        assert_eq!(map.remove(NodeId(2)), Some(2));
        assert_eq!(map.remove(NodeId(2)), None);
        assert_eq!(map.remove(NodeId(8)), None);
        let ids: Vec<NodeId> = map.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec![NodeId(1), NodeId(3)]);
    }
}
