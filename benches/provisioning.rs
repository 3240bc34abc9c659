//! Karpenter provisioning: one batch of Unschedulable pods bin-packed onto new NodeClaims,
//! driven through the public policy (`PodsUnschedulable`, then the batch timer) on an empty
//! cluster, against every amd64 instance type of the built-in catalog. Throughput is in pods.
//!
//! Two pod mixes, with the sizes of Karpenter's own scheduling benchmark:
//! * `generic`: requests only;
//! * `diverse`: a quarter each of generic pods, zone spread, hostname spread and hostname
//!   anti-affinity pods. Karpenter's benchmark also has pod-affinity pods, which this mix leaves
//!   out because the what-if scheduling checks required pod affinity against bound pods only.
//!
//! The 20,000-pod diverse batch takes minutes per pass: set `AUTOSCALE_SIM_BENCH_LARGE=1` to
//! time one pass of it outside criterion.

use std::hint::black_box;
use std::time::{Duration, Instant};

mod support;

use autoscale_sim::cloud::Catalog;
use autoscale_sim::engine::{RngStreams, SimTime};
use autoscale_sim::kube::{Cluster, LABEL_ARCH, Operator};
use autoscale_sim::policy::requirements::Requirement;
use autoscale_sim::policy::{Karpenter, PolicyEvent};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use support::{PodKind, add_unschedulable_pods, call, start_karpenter, zones};

const GENERIC: &[PodKind] = &[PodKind::Generic];
const DIVERSE: &[PodKind] = &[
    PodKind::Generic,
    PodKind::ZoneSpread,
    PodKind::HostnameSpread,
    PodKind::HostnameAntiAffinity,
];

/// The NodePool's only requirement: amd64, which leaves 865 of the 1,352 built-in types once
/// Karpenter's filter drops the bare-metal sizes.
fn amd64() -> Vec<Requirement> {
    vec![Requirement {
        key: LABEL_ARCH.to_string(),
        operator: Operator::In,
        values: vec!["amd64".to_string()],
        min_values: None,
    }]
}

/// Builds a batch of `pods` Unschedulable pods of `kinds` and a started Karpenter policy.
fn setup(
    pods: usize,
    kinds: &[PodKind],
    catalog: &Catalog,
    zones: &[String],
) -> (Cluster, Karpenter, PolicyEvent) {
    let mut cluster = Cluster::new(vec![]);
    let mut rng = RngStreams::new(42).stream("bench/provisioning-pods");
    let ids = add_unschedulable_pods(&mut cluster, pods, kinds, &mut rng, SimTime::ZERO);
    let (policy, _) = start_karpenter(amd64(), &cluster, catalog, zones, SimTime::ZERO);
    (cluster, policy, PolicyEvent::PodsUnschedulable(ids))
}

/// Opens a batch window with `event`, fires its timer, and returns the NodeClaims launched.
fn provision(
    policy: &mut Karpenter,
    event: &PolicyEvent,
    cluster: &Cluster,
    catalog: &Catalog,
    zones: &[String],
) -> usize {
    let batch = call(policy, event, cluster, catalog, zones, SimTime::ZERO);
    let (at, token) = batch.earliest_timer().expect("a batch window opens");
    let reply = call(
        policy,
        &PolicyEvent::Timer(token),
        cluster,
        catalog,
        zones,
        at,
    );
    reply.launches()
}

/// Times one provisioning pass over each batch size in `sizes` with criterion, and a single pass
/// over each size in `single_pass` (batches too slow for repeated samples).
fn bench_batches(
    c: &mut Criterion,
    group_name: &str,
    kinds: &[PodKind],
    sizes: &[usize],
    single_pass: &[usize],
) {
    let catalog = Catalog::builtin();
    let zones = zones();
    let mut group = c.benchmark_group(group_name);
    for &pods in sizes {
        if pods >= 5_000 {
            group.sample_size(10);
        }
        let (cluster, mut policy, event) = setup(pods, kinds, &catalog, &zones);
        group.throughput(Throughput::Elements(pods as u64));
        let mut reported = false;
        group.bench_function(BenchmarkId::from_parameter(pods), |b| {
            if !reported {
                let claims = provision(&mut policy, &event, &cluster, &catalog, &zones);
                eprintln!("{group_name}/{pods}: {claims} NodeClaims for {pods} pods");
                reported = true;
            }
            b.iter(|| black_box(provision(&mut policy, &event, &cluster, &catalog, &zones)))
        });
    }
    group.finish();

    for &pods in single_pass {
        let (cluster, mut policy, event) = setup(pods, kinds, &catalog, &zones);
        let started = Instant::now();
        let claims = provision(&mut policy, &event, &cluster, &catalog, &zones);
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{group_name}/{pods}: single pass {seconds:.2} s, {:.0} pods/s, {claims} NodeClaims",
            pods as f64 / seconds
        );
    }
}

fn provisioning(c: &mut Criterion) {
    let large: &[usize] = if std::env::var_os("AUTOSCALE_SIM_BENCH_LARGE").is_some() {
        &[20_000]
    } else {
        &[]
    };
    bench_batches(
        c,
        "provisioning_generic",
        GENERIC,
        &[1, 100, 1_000, 5_000, 20_000],
        &[],
    );
    bench_batches(
        c,
        "provisioning_diverse",
        DIVERSE,
        &[1, 100, 1_000, 5_000],
        large,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = provisioning
}
criterion_main!(benches);
