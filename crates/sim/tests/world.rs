//! Whole runs of the simulated world: billing, scheduling limits, HPA-driven replicas and
//! determinism.

use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, LatencyModel, Resources};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::PodSpec;
use autoscale_sim_policy::{KarpenterConfig, StaticConfig};
use autoscale_sim_sim::{Deployment, Load, PolicySpec, Replicas, SimConfig, Simulation};
use autoscale_sim_workload::{DiurnalLoad, HpaSpec};

fn deployment(name: &str, cpu: i64, memory: i64, replicas: Replicas) -> Deployment {
    Deployment {
        controller: Default::default(),
        name: name.into(),
        spec: Arc::new(PodSpec {
            requests: Resources::new(cpu, memory, 1),
            ..Default::default()
        }),
        replicas,
        startup_latency: LatencyModel::Fixed(SimDuration::from_secs(5)),
    }
}

fn static_fleet(catalog: &Catalog, instance_type: &str, count: u32) -> PolicySpec {
    PolicySpec::Static(StaticConfig {
        name: "static".into(),
        instance_type: catalog.index_of(instance_type).unwrap(),
        count,
    })
}

#[test]
fn static_fleet_bills_each_second() {
    let catalog = Arc::new(Catalog::builtin());
    let mut config = SimConfig::new("billing", 1, SimDuration::from_hours(1), catalog.clone());
    config.launch_latency = LatencyModel::Fixed(SimDuration::from_secs(30)).into();
    config
        .deployments
        .push(deployment("web", 500, GIB, Replicas::Fixed(3)));

    let report = Simulation::new(config)
        .unwrap()
        .run(&static_fleet(&catalog, "m5.large", 2))
        .report;

    // Two m5.large at 0.096 $/h. The 30 s request-to-Ready shorthand puts `running` at a fifth
    // of it, 6 s, so each is billed 3,594 s: 96,000 × 3,594 / 3,600 = 95,840 micro-dollars.
    assert_eq!(report.total_cost_micro_usd, 191_680);
    assert_eq!(report.cost_by_instance_type["m5.large"], 0.19168);
    assert_eq!(report.cost_by_capacity_type["on-demand"], 0.19168);
    // Node hours count from the launch request.
    assert_eq!(report.node_hours, 2.0);
    assert_eq!(report.peak_nodes, 2);
}

#[test]
fn snapshot_at_end_is_taken() {
    // The last sample comes a sample interval before the end, so a snapshot at the end itself
    // is taken when the run ends.
    let catalog = Arc::new(Catalog::builtin());
    let mut config = SimConfig::new("end", 1, SimDuration::from_hours(1), catalog.clone());
    config
        .deployments
        .push(deployment("web", 500, GIB, Replicas::Fixed(3)));
    config.snapshots.push(autoscale_sim_sim::Snapshot {
        label: "end".into(),
        at: autoscale_sim_engine::SimTime::ZERO + SimDuration::from_hours(1),
    });

    let report = Simulation::new(config)
        .unwrap()
        .run(&static_fleet(&catalog, "m5.large", 2))
        .report;

    assert_eq!(report.snapshots.len(), 1);
    assert_eq!(report.snapshots[0].label, "end");
    assert_eq!(report.snapshots[0].time_seconds, 3600);
    assert_eq!(report.snapshots[0].nodes["m5.large"], 2);
}

#[test]
fn pods_wait_for_the_first_node() {
    let catalog = Arc::new(Catalog::builtin());
    let mut config = SimConfig::new("pending", 1, SimDuration::from_mins(10), catalog.clone());
    config.launch_latency = LatencyModel::Fixed(SimDuration::from_secs(30)).into();
    config
        .deployments
        .push(deployment("web", 500, GIB, Replicas::Fixed(2)));

    let report = Simulation::new(config)
        .unwrap()
        .run(&static_fleet(&catalog, "m5.large", 1))
        .report;

    // Both pods are created at t = 0 and bound when the node is Ready at 30 s.
    assert_eq!(report.pod_pending_p50_seconds, 30.0);
    assert_eq!(report.pod_pending_max_seconds, 30.0);
    assert_eq!(report.pending_pod_seconds, 60.0);
}

#[test]
fn pods_beyond_capacity_stay_pending() {
    let catalog = Arc::new(Catalog::builtin());
    let mut config = SimConfig::new("full", 1, SimDuration::from_mins(10), catalog.clone());
    config.launch_latency = LatencyModel::Fixed(SimDuration::from_secs(30)).into();
    // m5.large allocatable CPU is 1930m: three 600m pods fit, the fourth does not.
    config.deployments.push(deployment(
        "web",
        600,
        256 * 1024 * 1024,
        Replicas::Fixed(4),
    ));

    let output = Simulation::new(config)
        .unwrap()
        .run(&static_fleet(&catalog, "m5.large", 1));

    let last = output.samples.last().unwrap();
    assert_eq!(last.pods_pending, 1);
    assert_eq!(last.cpu_requested_millis, 1800);
    assert_eq!(output.report.pod_pending_max_seconds, 600.0);
}

fn diurnal_config(seed: u64) -> SimConfig {
    let catalog = Arc::new(Catalog::builtin());
    let mut config = SimConfig::new("diurnal", seed, SimDuration::from_days(1), catalog);
    let mut load = DiurnalLoad::new(100.0, 400.0);
    load.noise = 0.05;
    let mut rng = autoscale_sim_engine::RngStreams::new(seed).stream("load/web");
    let trace = load
        .generate(SimDuration::from_days(1), 0, SimDuration::ZERO, &mut rng)
        .unwrap();
    config.loads.push(Load {
        name: "web".into(),
        trace,
    });
    config.deployments.push(deployment(
        "web",
        1000,
        2 * GIB,
        Replicas::Hpa {
            load: 0,
            spec: HpaSpec::new(20.0, 2, 50),
        },
    ));
    config
}

#[test]
fn requests_never_exceed_allocatable() {
    let output = Simulation::new(diurnal_config(3))
        .unwrap()
        .run(&PolicySpec::Karpenter(KarpenterConfig::default()));

    assert!(output.samples.len() >= 1440);
    for sample in &output.samples {
        assert!(
            sample.cpu_requested_millis <= sample.cpu_allocatable_millis,
            "CPU over-committed at {} s",
            sample.time_seconds
        );
        assert!(
            sample.memory_requested_bytes <= sample.memory_allocatable_bytes,
            "memory over-committed at {} s",
            sample.time_seconds
        );
    }
}

#[test]
fn hpa_follows_the_daily_peak() {
    let output = Simulation::new(diurnal_config(3))
        .unwrap()
        .run(&PolicySpec::Karpenter(KarpenterConfig::default()));

    // Load 100 at 05:00 and 400 at 14:00 with 20 per replica: about 5 and 20 pods.
    let at = |hour: u64| {
        output
            .samples
            .iter()
            .find(|s| s.time_seconds == hour * 3600)
            .unwrap()
            .pods
    };
    assert!((4..=7).contains(&at(5)), "pods at 05:00: {}", at(5));
    assert!((18..=23).contains(&at(14)), "pods at 14:00: {}", at(14));
}

#[test]
fn same_seed_same_results() {
    let policy = PolicySpec::Karpenter(KarpenterConfig::default());
    let first = Simulation::new(diurnal_config(9)).unwrap().run(&policy);
    let second = Simulation::new(diurnal_config(9)).unwrap().run(&policy);
    let other = Simulation::new(diurnal_config(10)).unwrap().run(&policy);

    assert_eq!(first, second);
    assert_ne!(first.report, other.report);
}

#[test]
fn invalid_hpa_is_rejected() {
    let mut config = diurnal_config(1);
    config.deployments[0].replicas = Replicas::Hpa {
        load: 0,
        spec: HpaSpec::new(0.0, 2, 50),
    };
    let error = Simulation::new(config).unwrap_err();
    assert!(error.to_string().contains("deployment web"), "{error}");
}
