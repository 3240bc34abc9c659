//! Memory of a 30-day run stays flat after warm-up, apart from what the run keeps for its output.
//!
//! This test binary counts every heap allocation with its own global allocator. It has one test
//! only, because another test running alongside would allocate into the same count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};

use autoscale_sim_engine::SimDuration;
use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::{Progress, Simulation};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, which `System` shares.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A 30-day diurnal service with a Job stream, under both policies, sampled every 10 minutes.
const THIRTY_DAYS: &str = r#"
name: thirty-days
seed: 3
duration: 30d
sampleInterval: 10m
loads:
  web:
    diurnal: {base: 100, peak: 900, noise: 0.05}
workloads:
  - kind: Deployment
    metadata: {name: web}
    hpa: {load: web, targetPerReplica: 20, minReplicas: 2, maxReplicas: 80}
    template:
      spec:
        containers: [{name: web, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
  - kind: Job
    metadata: {name: report}
    arrivals: {load: web, perHourPerUnit: 0.02}
    duration: {distribution: logNormal, mean: 20m, stddev: 10m, min: 1m}
    template:
      spec:
        containers: [{name: report, resources: {requests: {cpu: 1, memory: 2Gi}}}]
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: general, instanceType: m5.xlarge, minSize: 1, maxSize: 40}
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              spec:
                requirements:
                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}
                  - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
"#;

/// Live heap bytes and the run's own output bytes at one probe.
#[derive(Clone, Copy, Debug)]
struct Reading {
    live_bytes: isize,
    metrics_bytes: isize,
}

#[test]
fn memory_flat_from_day_10_to_day_30() {
    let scenario = load_str(
        THIRTY_DAYS,
        Path::new("thirty-days.yaml"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut config = scenario.config.clone();
    config.check_invariants = false;
    let simulation = Simulation::new(config).unwrap();

    for policy in &scenario.policies {
        let mut readings: Vec<Reading> = Vec::new();
        let mut observe = |progress: &Progress| {
            readings.push(Reading {
                live_bytes: LIVE_BYTES.load(Ordering::Relaxed),
                metrics_bytes: progress.metrics_heap_bytes as isize,
            });
        };
        let output = simulation.run_observed(policy, SimDuration::from_days(1), &mut observe);
        assert!(output.report.nodes_launched > 30, "{}", policy.name());

        // Probes come at days 0 to 30, the last one just before the run ends. Days 10 and 30
        // are both at midnight, the same point of the daily cycle.
        assert_eq!(readings.len(), 31);
        let (day10, day30) = (readings[10], readings[30]);
        let kept = day30.metrics_bytes - day10.metrics_bytes;
        let rest =
            (day30.live_bytes - day30.metrics_bytes) - (day10.live_bytes - day10.metrics_bytes);
        println!(
            "{}: live {} B at day 10, {} B at day 30; output kept grew {kept} B; the rest grew {rest} B",
            policy.name(),
            day10.live_bytes,
            day30.live_bytes
        );
        // Everything but the output stays within 64 KiB and 2 % of its day-10 size.
        let base = day10.live_bytes - day10.metrics_bytes;
        assert!(
            rest <= 64 * 1024 + base / 50,
            "{}: memory besides the output grew by {rest} bytes from day 10 to day 30 (base {base})",
            policy.name()
        );
    }
}
