//! Hold-model benchmark of the event queues: pop the earliest event and schedule a replacement
//! at an exponentially distributed delay, with a share of cancellations and re-arms, at a fixed
//! number of pending events (1k to 1M).

use std::hint::black_box;

use autoscale_sim::engine::{EventId, EventQueue, HeapQueue, KeyedQueue, RngStreams, SimTime};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand_distr::{Distribution, Exp};

/// Events popped per measured iteration.
const OPERATIONS: u64 = 10_000;

fn hold<Q: EventQueue<u64> + Default>(pending: usize) -> impl FnMut() {
    let mut rng = RngStreams::new(1).stream("bench/hold");
    let delay = Exp::new(1.0 / 1000.0).expect("positive rate");
    let mut queue = Q::default();
    let mut live: Vec<EventId> = Vec::with_capacity(pending);
    for i in 0..pending {
        let at = SimTime(delay.sample(&mut rng) as u64);
        live.push(queue.schedule(at, i as u64));
    }
    move || {
        for _ in 0..OPERATIONS {
            let fired = queue.pop().expect("the queue stays full");
            let now = fired.time;
            let next = now.0 + delay.sample(&mut rng) as u64;
            let id = queue.schedule(SimTime(next), black_box(fired.event));
            // One in ten steps re-arms a random live event, one in twenty cancels and replaces one.
            let slot = rng.random_range(0..live.len());
            match rng.random_range(0..20u32) {
                0 | 1 => {
                    queue.reschedule(live[slot], SimTime(next + 1));
                }
                2 if queue.cancel(live[slot]) => {
                    live[slot] = queue.schedule(SimTime(next + 2), 0);
                }
                _ => {}
            }
            let replace = rng.random_range(0..live.len());
            live[replace] = id;
        }
    }
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_hold");
    group.throughput(Throughput::Elements(OPERATIONS));
    for pending in [1_000usize, 10_000, 100_000, 1_000_000] {
        if pending >= 1_000_000 {
            // Criterion fills the queue again for every sample, so the largest size takes fewer.
            group.sample_size(10);
        }
        group.bench_with_input(
            BenchmarkId::new("priority-queue", pending),
            &pending,
            |b, &n| b.iter(hold::<KeyedQueue<u64>>(n)),
        );
        group.bench_with_input(
            BenchmarkId::new("binary-heap", pending),
            &pending,
            |b, &n| b.iter(hold::<HeapQueue<u64>>(n)),
        );
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
