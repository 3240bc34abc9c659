//! Event queues: time order, FIFO among equal times, cancellation and re-arming.
//!
//! Two implementations share the [`EventQueue`] trait so they can be benchmarked against each
//! other: [`KeyedQueue`] keeps one entry per event in an indexed heap (`priority-queue`), so
//! cancelling and re-arming change the heap in place; [`HeapQueue`] is a plain `BinaryHeap` that
//! leaves cancelled entries behind and skips them when they surface (lazy cancellation).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use priority_queue::PriorityQueue;

use crate::time::SimTime;

/// Hasher for ids that are distinct sequence numbers, such as event and node ids. One
/// multiplication by an odd constant spreads them well and costs far less than the default
/// SipHash. A map that uses it must only be looked up by id and never iterated, so that the
/// hash order cannot change any decision.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<EventId, V, BuildHasherDefault<IdHasher>>;

/// Handle of a scheduled event, unique within one queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub u64);

/// An event taken off the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired<E> {
    /// When the event fires.
    pub time: SimTime,
    /// Its handle, as returned when it was scheduled.
    pub id: EventId,
    /// The payload.
    pub event: E,
}

/// A queue of future events ordered by time, then by the order they were scheduled or re-armed.
pub trait EventQueue<E> {
    /// Schedules `event` at `time` and returns its handle.
    fn schedule(&mut self, time: SimTime, event: E) -> EventId;
    /// Removes a pending event; returns false when it already fired or was cancelled.
    fn cancel(&mut self, id: EventId) -> bool;
    /// Moves a pending event to `time`, placing it after events already scheduled for that time.
    /// Returns false when the event already fired or was cancelled.
    fn reschedule(&mut self, id: EventId, time: SimTime) -> bool;
    /// Removes and returns the earliest event.
    fn pop(&mut self) -> Option<Fired<E>>;
    /// Time of the earliest event.
    fn peek_time(&mut self) -> Option<SimTime>;
    /// Number of pending (not cancelled) events.
    fn len(&self) -> usize;
    /// Whether no event is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Order key: earlier time first, then lower sequence number (FIFO).
type Key = Reverse<(SimTime, u64)>;

/// Indexed binary heap from the `priority-queue` crate: cancel and re-arm in O(log n) in place.
#[derive(Debug)]
pub struct KeyedQueue<E> {
    heap: PriorityQueue<EventId, Key>,
    // NOTE: looked up by id only; never iterated, so its order cannot leak into decisions.
    payloads: IdMap<E>,
    next_seq: u64,
}

impl<E> Default for KeyedQueue<E> {
    fn default() -> Self {
        KeyedQueue {
            heap: PriorityQueue::new(),
            payloads: IdMap::default(),
            next_seq: 0,
        }
    }
}

impl<E> KeyedQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn next_key(&mut self, time: SimTime) -> (u64, Key) {
        let seq = self.next_seq;
        self.next_seq += 1;
        (seq, Reverse((time, seq)))
    }
}

impl<E> EventQueue<E> for KeyedQueue<E> {
    fn schedule(&mut self, time: SimTime, event: E) -> EventId {
        let (seq, key) = self.next_key(time);
        let id = EventId(seq);
        self.heap.push(id, key);
        self.payloads.insert(id, event);
        id
    }

    fn cancel(&mut self, id: EventId) -> bool {
        self.payloads.remove(&id);
        self.heap.remove(&id).is_some()
    }

    fn reschedule(&mut self, id: EventId, time: SimTime) -> bool {
        if !self.payloads.contains_key(&id) {
            return false;
        }
        let (_, key) = self.next_key(time);
        self.heap.change_priority(&id, key).is_some()
    }

    fn pop(&mut self) -> Option<Fired<E>> {
        let (id, Reverse((time, _))) = self.heap.pop()?;
        let event = self
            .payloads
            .remove(&id)
            .expect("every queued id has a payload");
        Some(Fired { time, id, event })
    }

    fn peek_time(&mut self) -> Option<SimTime> {
        self.heap.peek().map(|(_, Reverse((time, _)))| *time)
    }

    fn len(&self) -> usize {
        self.heap.len()
    }
}

/// `BinaryHeap` with lazy cancellation: cancelled or re-armed entries stay in the heap until
/// they reach the top, where a sequence-number check discards them.
///
/// Live events sit in a slab (a vector of slots reused through a free list), so a lookup is an
/// index, not a hash. An [`EventId`] contains the slot in its low 32 bits and the slot's
/// generation in its high 32 bits. A slot's generation grows each time it is freed, so the handle
/// of an event that fired or was cancelled never matches a later event in the same slot.
#[derive(Debug)]
pub struct HeapQueue<E> {
    heap: BinaryHeap<HeapEntry>,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    live: usize,
    next_seq: u64,
}

/// One heap entry: earlier time first, then lower sequence number; the slot is not compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HeapEntry {
    time: SimTime,
    seq: u64,
    slot: u32,
}

impl Ord for HeapEntry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed, since `BinaryHeap` is a max-heap. Sequence numbers are unique, so two
        // entries never compare equal unless they are the same entry.
        other.order_key().cmp(&self.order_key())
    }
}

impl HeapEntry {
    /// Packs time and sequence number into one integer, so that a comparison is one wide
    /// subtraction instead of two branches.
    fn order_key(&self) -> u128 {
        u128::from(self.time.0) << 64 | u128::from(self.seq)
    }
}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Builds the handle of the event in slot `index` at `generation`.
fn slot_id(generation: u32, index: u32) -> EventId {
    EventId(u64::from(generation) << 32 | u64::from(index))
}

/// Returns the slot index of a handle.
fn slot_index(id: EventId) -> u32 {
    (id.0 & u64::from(u32::MAX)) as u32
}

#[derive(Debug)]
struct Slot<E> {
    generation: u32,
    // Sequence number of the event's current heap entry; meaningless while the slot is free.
    seq: u64,
    event: Option<E>,
}

impl<E> Default for HeapQueue<E> {
    fn default() -> Self {
        HeapQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            next_seq: 0,
        }
    }
}

impl<E> HeapQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Returns the slot of a live event, or None when the handle is stale.
    fn live_slot(&mut self, id: EventId) -> Option<&mut Slot<E>> {
        let slot = self.slots.get_mut(slot_index(id) as usize)?;
        (slot.event.is_some() && u64::from(slot.generation) == id.0 >> 32).then_some(slot)
    }

    /// Tells whether a heap entry is the current one of a live event.
    fn is_fresh(slots: &[Slot<E>], entry: &HeapEntry) -> bool {
        let slot = &slots[entry.slot as usize];
        slot.event.is_some() && slot.seq == entry.seq
    }

    fn release(&mut self, index: u32) -> Option<E> {
        let slot = &mut self.slots[index as usize];
        let event = slot.event.take();
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.live -= 1;
        event
    }

    /// Adds an entry. When the top entry is stale (typically the event just popped), the new
    /// entry takes its place with one sift-down, instead of a pop and a push. Stale entries
    /// are never returned, so which one is dropped first cannot change the order of events.
    fn push(&mut self, entry: HeapEntry) {
        let top_is_stale = self
            .heap
            .peek()
            .is_some_and(|top| !Self::is_fresh(&self.slots, top));
        if top_is_stale && let Some(mut top) = self.heap.peek_mut() {
            *top = entry;
        } else {
            self.heap.push(entry);
        }
    }

    fn discard_stale_top(&mut self) {
        while let Some(top) = self.heap.peek() {
            if Self::is_fresh(&self.slots, top) {
                return;
            }
            self.heap.pop();
        }
    }
}

impl<E> EventQueue<E> for HeapQueue<E> {
    fn schedule(&mut self, time: SimTime, event: E) -> EventId {
        let seq = self.take_seq();
        let index = match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.seq = seq;
                slot.event = Some(event);
                index
            }
            None => {
                let index = u32::try_from(self.slots.len())
                    .expect("fewer than 2^32 events pending at once");
                self.slots.push(Slot {
                    generation: 0,
                    seq,
                    event: Some(event),
                });
                index
            }
        };
        self.live += 1;
        self.push(HeapEntry {
            time,
            seq,
            slot: index,
        });
        slot_id(self.slots[index as usize].generation, index)
    }

    fn cancel(&mut self, id: EventId) -> bool {
        if self.live_slot(id).is_none() {
            return false;
        }
        self.release(slot_index(id));
        true
    }

    fn reschedule(&mut self, id: EventId, time: SimTime) -> bool {
        let seq = self.next_seq;
        let Some(slot) = self.live_slot(id) else {
            return false;
        };
        slot.seq = seq;
        self.next_seq += 1;
        self.push(HeapEntry {
            time,
            seq,
            slot: slot_index(id),
        });
        true
    }

    fn pop(&mut self) -> Option<Fired<E>> {
        self.discard_stale_top();
        // The entry stays in the heap, stale once its slot is released; the next schedule or
        // re-arm usually overwrites it in place (see `push`).
        let top = *self.heap.peek()?;
        let generation = self.slots[top.slot as usize].generation;
        let event = self.release(top.slot).expect("a fresh top entry is live");
        Some(Fired {
            time: top.time,
            id: slot_id(generation, top.slot),
            event,
        })
    }

    fn peek_time(&mut self) -> Option<SimTime> {
        self.discard_stale_top();
        self.heap.peek().map(|top| top.time)
    }

    fn len(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<Q: EventQueue<&'static str>>(mut q: Q) -> Vec<(u64, &'static str)> {
        std::iter::from_fn(|| q.pop())
            .map(|f| (f.time.0, f.event))
            .collect()
    }

    fn check_order_cancel_rearm<Q: EventQueue<&'static str> + Default>() {
        let mut q = Q::default();
        q.schedule(SimTime(20), "b1");
        let cancelled = q.schedule(SimTime(10), "cancelled");
        q.schedule(SimTime(20), "b2");
        let moved = q.schedule(SimTime(5), "moved");
        q.schedule(SimTime(10), "a");

        assert!(q.cancel(cancelled));
        assert!(!q.cancel(cancelled));
        assert!(q.reschedule(moved, SimTime(20)));
        assert_eq!(q.len(), 4);
        assert_eq!(q.peek_time(), Some(SimTime(10)));

        assert_eq!(
            drain(q),
            vec![(10, "a"), (20, "b1"), (20, "b2"), (20, "moved")]
        );
    }

    #[test]
    fn keyed_queue_orders_cancels_rearms() {
        check_order_cancel_rearm::<KeyedQueue<&'static str>>();
    }

    #[test]
    fn heap_queue_orders_cancels_rearms() {
        check_order_cancel_rearm::<HeapQueue<&'static str>>();
    }

    #[test]
    fn fired_event_cannot_be_rearmed() {
        let mut q = KeyedQueue::new();
        let id = q.schedule(SimTime(1), "x");
        q.pop();
        assert!(!q.reschedule(id, SimTime(2)));
        let mut h = HeapQueue::new();
        let id = h.schedule(SimTime(1), "x");
        h.pop();
        assert!(!h.reschedule(id, SimTime(2)));
        assert!(h.is_empty());
    }

    #[test]
    fn heap_queue_stale_handle_reused_slot() {
        let mut q = HeapQueue::new();
        let first = q.schedule(SimTime(1), "first");
        assert!(q.cancel(first));
        let second = q.schedule(SimTime(2), "second");
        assert_ne!(first, second);
        assert!(!q.cancel(first));
        assert!(!q.reschedule(first, SimTime(0)));
        let fired = q.pop().expect("second is pending");
        assert_eq!(
            (fired.time, fired.id, fired.event),
            (SimTime(2), second, "second")
        );
        assert!(!q.cancel(second));
        assert_eq!(q.pop(), None);
    }
}
