//! Karpenter consolidation: one disruption pass over a cluster of Ready nodes, driven through
//! the public policy (`Start`, then the disruption timer). A pass runs emptiness, multi-node
//! consolidation (a binary search over at most 100 candidates) and then single-node
//! consolidation, until one of them yields a command.
//!
//! * `consolidation_full_scan`: every m5.xlarge node runs seven 500m/1Gi pods and the NodePool
//!   allows only m5.xlarge, so no pod fits on another node and no replacement is cheaper. The
//!   multi-node search and then every single-node candidate are simulated, and nothing is
//!   found: the worst case. (With the whole m5 family allowed, larger m5 types pack the pods
//!   with less overhead, and multi-node consolidation finds a cheaper replacement.)
//! * `consolidation_first_command`: every node is a third full and the NodePool allows the m5
//!   family, so the pass ends with a command after few simulations.
//!
//! Emptiness finds no empty node in either cluster.
//!
//! The 10,000-node full scan is timed as one pass outside criterion, with
//! `AUTOSCALE_SIM_BENCH_LARGE=1`.

use std::hint::black_box;
use std::time::{Duration, Instant};

mod support;

use autoscale_sim::cloud::Catalog;
use autoscale_sim::engine::{SimDuration, SimTime};
use autoscale_sim::kube::LABEL_INSTANCE_TYPE;
use autoscale_sim::kube::{Cluster, Operator};
use autoscale_sim::policy::requirements::{LABEL_INSTANCE_FAMILY, Requirement};
use autoscale_sim::policy::{Karpenter, PolicyEvent};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use support::{add_ready_node, bind_pods, call, plain_spec, start_karpenter, zones};

/// Instance type of every node.
const NODE_TYPE: &str = "m5.xlarge";

/// Builds `nodes` Ready m5.xlarge nodes, each with `pods_per_node` pods of 500m and 1 GiB.
fn cluster(catalog: &Catalog, nodes: usize, pods_per_node: usize) -> Cluster {
    let mut cluster = Cluster::new(vec![]);
    let launched = SimTime::ZERO;
    let ready = launched + SimDuration::from_secs(60);
    let spec = plain_spec(500, 1);
    for _ in 0..nodes {
        let node = add_ready_node(&mut cluster, catalog, NODE_TYPE, launched, ready);
        bind_pods(&mut cluster, node, &spec, pods_per_node, ready);
    }
    cluster
}

/// Builds the NodePool requirement `key In [value]`.
fn only(key: &str, value: &str) -> Vec<Requirement> {
    vec![Requirement {
        key: key.to_string(),
        operator: Operator::In,
        values: vec![value.to_string()],
        min_values: None,
    }]
}

/// Fires the disruption timer of a started policy on `cluster` and returns whether the pass
/// found a command. A command arms the validation timer (15 s); a pass without one re-arms the
/// polling timer (10 s). Either may come with the expiration timer (720 h).
fn disruption_pass(
    started: (Karpenter, (SimTime, u64)),
    cluster: &Cluster,
    catalog: &Catalog,
    zones: &[String],
) -> bool {
    let (mut policy, (at, token)) = started;
    let reply = call(
        &mut policy,
        &PolicyEvent::Timer(token),
        cluster,
        catalog,
        zones,
        at,
    );
    reply
        .timers
        .iter()
        .any(|(time, _)| *time == at + SimDuration::from_secs(15))
}

/// Times one disruption pass on a fresh policy over each cluster size in `sizes` with criterion,
/// and a single pass over each size in `single_pass`, checking that each pass ends the expected
/// way.
fn bench_passes(
    c: &mut Criterion,
    group_name: &str,
    sizes: &[usize],
    single_pass: &[usize],
    pods_per_node: usize,
    requirements: Vec<Requirement>,
    expect_command: bool,
) {
    let catalog = Catalog::builtin();
    let zones = zones();
    let start = SimTime::ZERO + SimDuration::from_hours(1);
    let mut group = c.benchmark_group(group_name);
    for &nodes in sizes {
        group.sample_size(if nodes >= 1_000 { 10 } else { 20 });
        let cluster = cluster(&catalog, nodes, pods_per_node);
        let fresh_policy =
            || start_karpenter(requirements.clone(), &cluster, &catalog, &zones, start);
        group.throughput(Throughput::Elements(nodes as u64));
        let mut checked = false;
        group.bench_function(BenchmarkId::from_parameter(nodes), |b| {
            if !checked {
                let found = disruption_pass(fresh_policy(), &cluster, &catalog, &zones);
                assert_eq!(found, expect_command, "{group_name}/{nodes}: command found");
                checked = true;
            }
            b.iter_batched(
                fresh_policy,
                |started| black_box(disruption_pass(started, &cluster, &catalog, &zones)),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    for &nodes in single_pass {
        let cluster = cluster(&catalog, nodes, pods_per_node);
        let started = start_karpenter(requirements.clone(), &cluster, &catalog, &zones, start);
        let clock = Instant::now();
        let found = disruption_pass(started, &cluster, &catalog, &zones);
        let seconds = clock.elapsed().as_secs_f64();
        assert_eq!(found, expect_command, "{group_name}/{nodes}: command found");
        eprintln!("{group_name}/{nodes}: single pass {seconds:.2} s");
    }
}

fn consolidation(c: &mut Criterion) {
    let large: &[usize] = if std::env::var_os("AUTOSCALE_SIM_BENCH_LARGE").is_some() {
        &[10_000]
    } else {
        &[]
    };
    bench_passes(
        c,
        "consolidation_full_scan",
        &[100, 1_000],
        large,
        7,
        only(LABEL_INSTANCE_TYPE, NODE_TYPE),
        false,
    );
    bench_passes(
        c,
        "consolidation_first_command",
        &[100, 1_000, 10_000],
        &[],
        2,
        only(LABEL_INSTANCE_FAMILY, "m5"),
        true,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = consolidation
}
criterion_main!(benches);
