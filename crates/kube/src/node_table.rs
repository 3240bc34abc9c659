//! The cluster's nodes in id order, stored contiguously, with an index of their free room.

use std::ops::{Deref, DerefMut};

use autoscale_sim_cloud::Resources;

use crate::objects::{Node, NodeId, NodeState};

/// Nodes sorted by id, with their ids in a separate vector for lookups.
///
/// kube-scheduler's search and every autoscaler loop iterate over all nodes, and here that
/// walks one vector instead of the leaves of a `BTreeMap`. A lookup is a binary search over
/// the ids alone. Ids grow with every node added, so adding is
/// a push. Removing shifts the later nodes, which costs one copy of the vector per removed node.
///
/// The table also keeps a [`RoomIndex`] over the node positions and each node's free room.
/// Every change to a node goes through [`NodeTable::get_mut`], whose guard updates the node's
/// entries when it is dropped, so both always match the nodes. The same guard keeps the
/// [`ReadyTotals`] of the table and each node's version.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeTable {
    ids: Vec<NodeId>,
    nodes: Vec<Node>,
    /// Version of the node at each position: a number that the table gives the node when it
    /// is added and again after every change. No two nodes, and no two states of one node,
    /// get the same number, so a result computed from a node stays valid while its version is
    /// the same.
    versions: Vec<u64>,
    /// The last version given out. Versions start at 1.
    last_version: u64,
    rooms: RoomIndex,
    /// [`Node::free`] of the node at each position, or `None` for a node that is not
    /// schedulable. Autoscalers read every node's free room in every loop, and this list
    /// serves them without reading the nodes, which are several cache lines each.
    free: Vec<Option<Resources>>,
    ready: ReadyTotals,
}

/// Counts and sums over the nodes that are Ready in their lifecycle. The simulator's metrics
/// and Cluster Autoscaler's health check read them after almost every event, and the table
/// keeps them up to date with each change instead of walking every node for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadyTotals {
    /// Number of Ready nodes.
    pub nodes: usize,
    /// Number of Ready nodes whose Ready condition is false (`Node::not_ready_since`).
    pub unready: usize,
    /// CPU requested on the Ready nodes, DaemonSet pods included, in millicores.
    pub cpu_requested: i128,
    /// CPU allocatable on the Ready nodes, in millicores.
    pub cpu_allocatable: i128,
    /// Memory requested on the Ready nodes, DaemonSet pods included, in bytes.
    pub memory_requested: i128,
    /// Memory allocatable on the Ready nodes, in bytes.
    pub memory_allocatable: i128,
}

impl ReadyTotals {
    /// Sums `nodes` from scratch, for a check of the totals a table keeps.
    pub fn of<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> ReadyTotals {
        let mut totals = ReadyTotals::default();
        for node in nodes {
            totals.count(node, 1);
        }
        totals
    }

    /// Adds `node` to the totals, or takes it out with `sign` -1. A node that is not Ready
    /// leaves them as they are.
    fn count(&mut self, node: &Node, sign: i8) {
        if node.state != NodeState::Ready {
            return;
        }
        let unready = usize::from(node.not_ready_since.is_some());
        if sign > 0 {
            self.nodes += 1;
            self.unready += unready;
        } else {
            self.nodes -= 1;
            self.unready -= unready;
        }
        let sign = i128::from(sign);
        let requested = node.requested();
        self.cpu_requested += sign * i128::from(requested.cpu_millis);
        self.cpu_allocatable += sign * i128::from(node.allocatable.cpu_millis);
        self.memory_requested += sign * i128::from(requested.memory_bytes);
        self.memory_allocatable += sign * i128::from(node.allocatable.memory_bytes);
    }
}

/// Returns the free room of `node`, or `None` if it is not schedulable.
fn schedulable_free(node: &Node) -> Option<Resources> {
    node.is_schedulable().then(|| node.free())
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
        let version = self.new_version();
        self.versions.push(version);
        self.free.push(schedulable_free(&node));
        self.ready.count(&node, 1);
        self.nodes.push(node);
        self.rooms.pushed(&self.nodes);
    }

    fn new_version(&mut self) -> u64 {
        self.last_version += 1;
        self.last_version
    }

    /// Returns the version of the node at `position` (see the `versions` field).
    pub(crate) fn version_at(&self, position: usize) -> u64 {
        self.versions[position]
    }

    pub(crate) fn position(&self, id: NodeId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// Returns the node `id`.
    pub(crate) fn get(&self, id: NodeId) -> Option<&Node> {
        self.position(id).map(|index| &self.nodes[index])
    }

    /// Returns the node `id` for changing. The node's room is indexed again when the returned
    /// guard is dropped.
    pub(crate) fn get_mut(&mut self, id: NodeId) -> Option<NodeMut<'_>> {
        let index = self.position(id)?;
        // The node leaves the totals while it is borrowed and comes back when the guard drops.
        self.ready.count(&self.nodes[index], -1);
        Some(NodeMut { table: self, index })
    }

    /// Checks whether node `id` exists.
    pub(crate) fn contains(&self, id: NodeId) -> bool {
        self.position(id).is_some()
    }

    /// Removes the node `id` and returns it.
    pub(crate) fn remove(&mut self, id: NodeId) -> Option<Node> {
        let index = self.position(id)?;
        self.ids.remove(index);
        self.versions.remove(index);
        self.free.remove(index);
        let node = self.nodes.remove(index);
        self.ready.count(&node, -1);
        self.rooms.remove(index, self.nodes.len() + 1);
        Some(node)
    }

    /// Returns the nodes in id order.
    pub(crate) fn as_slice(&self) -> &[Node] {
        &self.nodes
    }

    /// Iterates over the schedulable nodes in id order, with their ids and free room. It reads
    /// the ids and rooms from lists of their own, so it reads none of the nodes.
    pub(crate) fn schedulable_free(&self) -> impl Iterator<Item = (NodeId, &Node, Resources)> {
        let entries = self.ids.iter().zip(&self.nodes).zip(&self.free);
        entries.filter_map(|((id, node), free)| free.map(|free| (*id, node, free)))
    }

    /// Returns the counts and sums over the Ready nodes.
    pub(crate) fn ready_totals(&self) -> ReadyTotals {
        self.ready
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Returns the first position in `from..to` whose node may hold `requests`. Every node
    /// at a position in `from..` before the returned one (or in all of `from..to` with `None`)
    /// is not schedulable or lacks the free CPU, memory or pod slots for `requests`. The node
    /// at the returned position may still lack room, in an extended resource for example.
    pub(crate) fn next_with_room(
        &self,
        from: usize,
        to: usize,
        requests: &Resources,
    ) -> Option<usize> {
        let to = to.min(self.nodes.len());
        if from >= to {
            return None;
        }
        self.rooms
            .first_from(from, requests)
            .filter(|position| *position < to)
    }
}

/// A node of the table borrowed for changing. Dropping it indexes the node's room again.
pub(crate) struct NodeMut<'a> {
    table: &'a mut NodeTable,
    index: usize,
}

impl Deref for NodeMut<'_> {
    type Target = Node;

    fn deref(&self) -> &Node {
        &self.table.nodes[self.index]
    }
}

impl DerefMut for NodeMut<'_> {
    fn deref_mut(&mut self) -> &mut Node {
        &mut self.table.nodes[self.index]
    }
}

impl Drop for NodeMut<'_> {
    fn drop(&mut self) {
        let node = &self.table.nodes[self.index];
        let room = Room::of(node);
        self.table.free[self.index] = schedulable_free(node);
        self.table.ready.count(node, 1);
        self.table.rooms.set(self.index, room);
        self.table.versions[self.index] = self.table.new_version();
    }
}

/// The largest free CPU, memory and pod slots among some schedulable nodes, each taken on
/// its own, so they may come from different nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Room {
    cpu_millis: i64,
    memory_bytes: i64,
    pods: i64,
}

impl Room {
    /// The room of a node that is not schedulable, below every request that is not negative.
    const NONE: Room = Room {
        cpu_millis: i64::MIN,
        memory_bytes: i64::MIN,
        pods: i64::MIN,
    };

    fn of(node: &Node) -> Room {
        if !node.is_schedulable() {
            return Room::NONE;
        }
        let free = node.free();
        Room {
            cpu_millis: free.cpu_millis,
            memory_bytes: free.memory_bytes,
            pods: free.pods,
        }
    }

    fn max(self, other: Room) -> Room {
        Room {
            cpu_millis: self.cpu_millis.max(other.cpu_millis),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
            pods: self.pods.max(other.pods),
        }
    }

    /// Checks whether a node with this much room could hold `requests`. When this is false
    /// for the maximum over some nodes, every one of those nodes lacks room in at least one
    /// of the three resources, so none of them passes kube-scheduler's NodeResourcesFit.
    fn may_hold(&self, requests: &Resources) -> bool {
        requests.cpu_millis <= self.cpu_millis
            && requests.memory_bytes <= self.memory_bytes
            && requests.pods <= self.pods
    }
}

/// A segment tree over node positions: each vertex contains the [`Room::max`] of the nodes
/// below it. Vertex 1 is the root, vertex `v` has children `2v` and `2v + 1`, and the leaf of
/// position `i` is vertex `size + i`. Leaves past the last node contain [`Room::NONE`].
#[derive(Clone, Debug, Default)]
struct RoomIndex {
    /// Number of leaves, a power of two, or 0 before the first node.
    size: usize,
    vertices: Vec<Room>,
}

impl RoomIndex {
    /// Builds the tree for `nodes` from scratch.
    fn rebuild(&mut self, nodes: &[Node]) {
        self.size = nodes.len().next_power_of_two();
        self.vertices.clear();
        self.vertices.resize(2 * self.size, Room::NONE);
        for (index, node) in nodes.iter().enumerate() {
            self.vertices[self.size + index] = Room::of(node);
        }
        for vertex in (1..self.size).rev() {
            self.vertices[vertex] = self.vertices[2 * vertex].max(self.vertices[2 * vertex + 1]);
        }
    }

    /// Indexes the last of `nodes`, just pushed.
    fn pushed(&mut self, nodes: &[Node]) {
        if nodes.len() > self.size {
            self.rebuild(nodes);
        } else {
            let index = nodes.len() - 1;
            self.set(index, Room::of(&nodes[index]));
        }
    }

    /// Removes the leaf of position `index` out of `len`, moving the later leaves down one
    /// position as the nodes moved. Only the vertices above the moved leaves are computed
    /// again, and the tree keeps its size.
    fn remove(&mut self, index: usize, len: usize) {
        let first = self.size + index;
        let last = self.size + len - 1;
        self.vertices.copy_within(first + 1..=last, first);
        self.vertices[last] = Room::NONE;
        let (mut low, mut high) = (first, last);
        while low > 1 {
            low /= 2;
            high /= 2;
            for vertex in low..=high {
                self.vertices[vertex] =
                    self.vertices[2 * vertex].max(self.vertices[2 * vertex + 1]);
            }
        }
    }

    fn set(&mut self, index: usize, room: Room) {
        let mut vertex = self.size + index;
        self.vertices[vertex] = room;
        while vertex > 1 {
            vertex /= 2;
            self.vertices[vertex] = self.vertices[2 * vertex].max(self.vertices[2 * vertex + 1]);
        }
    }

    /// Returns the first position from `from` on whose leaf may hold `requests`.
    ///
    /// The search starts at the leaf of `from`. When a subtree cannot hold the requests, it
    /// climbs while the subtree is a right child and moves on to the next subtree to the
    /// right, so a run of full nodes costs time logarithmic in its length. A subtree whose
    /// maximum may hold the requests is descended to its leftmost such leaf. The maximum
    /// combines different nodes, so a descent can find no such leaf, and the search then goes
    /// on after that subtree.
    fn first_from(&self, from: usize, requests: &Resources) -> Option<usize> {
        let mut vertex = self.size + from;
        loop {
            if self.vertices[vertex].may_hold(requests) {
                while vertex < self.size {
                    let left = 2 * vertex;
                    if self.vertices[left].may_hold(requests) {
                        vertex = left;
                    } else if self.vertices[left + 1].may_hold(requests) {
                        vertex = left + 1;
                    } else {
                        break;
                    }
                }
                if vertex >= self.size {
                    return Some(vertex - self.size);
                }
            }
            // Every leaf below `vertex` is searched: move to the next subtree to the right.
            while vertex & 1 == 1 {
                if vertex == 1 {
                    return None;
                }
                vertex /= 2;
            }
            vertex += 1;
        }
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
    fn schedulable_free_follows_changes() {
        let mut table = NodeTable::default();
        for id in [0, 1, 2] {
            table.push(node(id));
            table.get_mut(NodeId(id)).unwrap().state = crate::NodeState::Ready;
        }
        table.get_mut(NodeId(1)).unwrap().cordoned = true;
        table.get_mut(NodeId(2)).unwrap().pod_requests.cpu_millis += 300;
        table.remove(NodeId(0));

        let listed: Vec<(NodeId, Resources)> = table
            .schedulable_free()
            .map(|(id, _, free)| (id, free))
            .collect();
        let expected: Vec<(NodeId, Resources)> = table
            .as_slice()
            .iter()
            .filter(|n| n.is_schedulable())
            .map(|n| (n.id, n.free()))
            .collect();
        assert_eq!(listed, expected);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, NodeId(2));
    }

    #[test]
    fn ready_totals_follow_changes() {
        let mut table = NodeTable::default();
        for id in [0, 1, 2, 3] {
            table.push(node(id));
        }
        for id in [0, 1, 2] {
            table.get_mut(NodeId(id)).unwrap().state = crate::NodeState::Ready;
        }
        table.get_mut(NodeId(1)).unwrap().not_ready_since = Some(autoscale_sim_engine::SimTime(5));
        table.get_mut(NodeId(2)).unwrap().pod_requests.cpu_millis += 300;
        table.get_mut(NodeId(3)).unwrap().pod_requests.memory_bytes += 7;
        table.remove(NodeId(0));

        let expected = ReadyTotals::of(table.as_slice());
        assert_eq!(table.ready_totals(), expected);
        assert_eq!((expected.nodes, expected.unready), (2, 1));
        assert_eq!(expected.cpu_requested, 300);
        assert_eq!(expected.cpu_allocatable, 2000);
    }

    #[test]
    fn room_index_follows_removals() {
        let mut table = NodeTable::default();
        for id in 0..9 {
            table.push(node(id));
            table.get_mut(NodeId(id)).unwrap().state = crate::NodeState::Ready;
        }
        table.get_mut(NodeId(4)).unwrap().pod_requests.cpu_millis += 600;
        table.get_mut(NodeId(6)).unwrap().cordoned = true;
        for id in [0, 5, 8] {
            table.remove(NodeId(id));
        }

        // The tree keeps its size, so it must equal one built from scratch at that size.
        let size = table.rooms.size;
        let mut expected = vec![Room::NONE; 2 * size];
        for (index, node) in table.as_slice().iter().enumerate() {
            expected[size + index] = Room::of(node);
        }
        for vertex in (1..size).rev() {
            expected[vertex] = expected[2 * vertex].max(expected[2 * vertex + 1]);
        }
        assert_eq!(table.len(), 6);
        assert_eq!(table.rooms.vertices, expected);
    }

    #[test]
    fn versions_change_with_every_change() {
        let mut table = NodeTable::default();
        for id in [0, 1, 2] {
            table.push(node(id));
        }
        let before: Vec<u64> = (0..3).map(|position| table.version_at(position)).collect();
        table.get_mut(NodeId(1)).unwrap().cordoned = true;
        let after = table.version_at(1);
        table.remove(NodeId(0));

        assert!(before[0] < before[1]);
        assert!(before[1] < before[2]);
        assert!(after > before[2]);
        assert_eq!(table.version_at(0), after);
        assert_eq!(table.version_at(1), before[2]);
    }

    #[test]
    #[should_panic(expected = "ids must grow")]
    fn node_table_rejects_smaller_id() {
        let mut table = NodeTable::default();
        table.push(node(2));
        table.push(node(1));
    }
}
