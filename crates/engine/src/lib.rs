//! Discrete-event kernel of autoscale-sim.
//!
//! Time is an integer number of milliseconds ([`SimTime`]); events wait in an [`EventQueue`]
//! ordered by time and, among equal times, by the order they were scheduled; every random draw
//! comes from a named stream of [`RngStreams`], so the same seed gives the same run.
//!
//! ```
//! use autoscale_sim_engine::{Engine, SimDuration, SimTime};
//!
//! let mut engine: Engine<&str> = Engine::default();
//! engine.schedule_in(SimDuration::from_secs(10), "scan");
//! let tick = engine.schedule_in(SimDuration::from_secs(5), "cancelled");
//! engine.cancel(tick);
//! let (time, event) = engine.next_event().unwrap();
//! assert_eq!((time, event), (SimTime(10_000), "scan"));
//! assert_eq!(engine.now(), SimTime(10_000));
//! ```

#![deny(missing_docs)]

mod queue;
mod rng;
mod time;

pub use queue::{EventId, EventQueue, Fired, HeapQueue, IdHasher, KeyedQueue};
pub use rng::{RngStreams, SimRng};
pub use time::{DurationError, SimDuration, SimTime, parse_duration};

/// The simulation clock and its event queue.
///
/// Time only moves forward, to the time of each event taken off the queue.
///
/// The default queue is [`HeapQueue`]: in the hold-model benchmark (`cargo bench --bench
/// engine`, docs/benchmarks.md) it pops and schedules faster than [`KeyedQueue`] at every size
/// from 1,000 to 1,000,000 pending events, and both give the same order.
#[derive(Debug)]
pub struct Engine<E, Q: EventQueue<E> = HeapQueue<E>> {
    now: SimTime,
    queue: Q,
    processed: u64,
    _event: std::marker::PhantomData<E>,
}

impl<E, Q: EventQueue<E> + Default> Default for Engine<E, Q> {
    fn default() -> Self {
        Engine {
            now: SimTime::ZERO,
            queue: Q::default(),
            processed: 0,
            _event: std::marker::PhantomData,
        }
    }
}

impl<E, Q: EventQueue<E>> Engine<E, Q> {
    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events taken off the queue so far.
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Schedules `event` at `time`; a time in the past is moved to now.
    pub fn schedule_at(&mut self, time: SimTime, event: E) -> EventId {
        self.queue.schedule(time.max(self.now), event)
    }

    /// Schedules `event` after `delay`.
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> EventId {
        self.queue.schedule(self.now + delay, event)
    }

    /// Cancels a pending event; returns false when it already fired or was cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.queue.cancel(id)
    }

    /// Re-arms a pending event to `time`; returns false when it already fired or was cancelled.
    pub fn reschedule(&mut self, id: EventId, time: SimTime) -> bool {
        self.queue.reschedule(id, time.max(self.now))
    }

    /// Time of the next event, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Takes the next event off the queue and advances the clock to its time.
    pub fn next_event(&mut self) -> Option<(SimTime, E)> {
        let fired = self.queue.pop()?;
        debug_assert!(fired.time >= self.now, "event queue went back in time");
        self.now = fired.time;
        self.processed += 1;
        Some((fired.time, fired.event))
    }

    /// Number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// A re-armable timer: at most one pending event at a time.
///
/// Arming a timer that is already pending moves its event instead of adding a second one, the
/// way a controller's requeue replaces its previous requeue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pending: Option<EventId>,
}

impl Timer {
    /// Arms the timer to fire `event` at `time`, moving the pending event if there is one.
    pub fn arm<E, Q: EventQueue<E>>(&mut self, engine: &mut Engine<E, Q>, time: SimTime, event: E) {
        if let Some(id) = self.pending
            && engine.reschedule(id, time)
        {
            return;
        }
        self.pending = Some(engine.schedule_at(time, event));
    }

    /// Cancels the pending event, if any.
    pub fn disarm<E, Q: EventQueue<E>>(&mut self, engine: &mut Engine<E, Q>) {
        if let Some(id) = self.pending.take() {
            engine.cancel(id);
        }
    }

    /// Marks the timer idle; call when its event fires.
    pub fn fired(&mut self) {
        self.pending = None;
    }

    /// Whether an event is pending.
    pub fn is_armed(&self) -> bool {
        self.pending.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_rearm_replaces_pending_event() {
        let mut engine: Engine<&str> = Engine::default();
        let mut timer = Timer::default();
        timer.arm(&mut engine, SimTime(100), "loop");
        timer.arm(&mut engine, SimTime(50), "loop");

        assert_eq!(engine.pending(), 1);
        assert_eq!(engine.next_event(), Some((SimTime(50), "loop")));
    }

    #[test]
    fn past_events_run_now() {
        let mut engine: Engine<u8> = Engine::default();
        engine.schedule_at(SimTime(10), 1);
        engine.next_event();
        engine.schedule_at(SimTime(5), 2);
        assert_eq!(engine.next_event(), Some((SimTime(10), 2)));
        assert_eq!(engine.events_processed(), 2);
    }
}
