//! The cluster's nodes in id order, stored contiguously.

use crate::objects::{Node, NodeId};

/// Nodes sorted by id, with their ids in a separate vector for lookups.
///
/// kube-scheduler's search and every autoscaler loop iterate over all nodes, and here that
/// walks one vector instead of the leaves of a `BTreeMap`. A lookup is a binary search over
/// the ids alone. Ids grow with every node added, so adding is
/// a push. Removing shifts the later nodes, which costs one copy of the vector per removed node.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeTable {
    ids: Vec<NodeId>,
    nodes: Vec<Node>,
}

impl NodeTable {
    /// Adds `node`, whose id must be greater than every id in the table.
    pub(crate) fn push(&mut self, node: Node) {
        assert!(
            self.ids.last().is_none_or(|last| *last < node.id),
            "node {} added after node {:?}: ids must grow",
            node.id,
            self.ids.last()
        );
        self.ids.push(node.id);
        self.nodes.push(node);
    }

    fn position(&self, id: NodeId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// Returns the node `id`.
    pub(crate) fn get(&self, id: NodeId) -> Option<&Node> {
        self.position(id).map(|index| &self.nodes[index])
    }

    /// Returns the node `id` for changing.
    pub(crate) fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.position(id).map(|index| &mut self.nodes[index])
    }

    /// Checks whether node `id` exists.
    pub(crate) fn contains(&self, id: NodeId) -> bool {
        self.position(id).is_some()
    }

    /// Removes the node `id` and returns it.
    pub(crate) fn remove(&mut self, id: NodeId) -> Option<Node> {
        let index = self.position(id)?;
        self.ids.remove(index);
        Some(self.nodes.remove(index))
    }

    /// Returns the nodes in id order.
    pub(crate) fn as_slice(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64) -> Node {
        let mut cluster = crate::Cluster::new(vec![]);
        let mut node = None;
        for _ in 0..=id {
            node = Some(cluster.add_node(
                crate::cluster::tests::new_node("ng", 1000, 1000),
                autoscale_sim_engine::SimTime(0),
            ));
        }
        cluster.node(node.unwrap()).unwrap().clone()
    }

    #[test]
    fn node_table_lookup_and_removal() {
        let mut table = NodeTable::default();
        for id in [0, 1, 2, 3] {
            table.push(node(id));
        }
        assert_eq!(table.len(), 4);
        assert_eq!(table.get(NodeId(2)).map(|n| n.id), Some(NodeId(2)));

        assert_eq!(table.remove(NodeId(1)).map(|n| n.id), Some(NodeId(1)));
        assert!(table.remove(NodeId(1)).is_none());
        assert!(!table.contains(NodeId(1)));
        assert!(table.get_mut(NodeId(3)).is_some());
        let order: Vec<NodeId> = table.as_slice().iter().map(|n| n.id).collect();
        assert_eq!(order, vec![NodeId(0), NodeId(2), NodeId(3)]);
    }

    #[test]
    #[should_panic(expected = "ids must grow")]
    fn node_table_rejects_smaller_id() {
        let mut table = NodeTable::default();
        table.push(node(2));
        table.push(node(1));
    }
}
