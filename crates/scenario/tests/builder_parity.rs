//! A world built in code with `Simulation::builder` matches the same world loaded from a scenario
//! file: the same defaults, the same diurnal series and the same run.

use std::path::Path;

use autoscale_sim_cloud::{GIB, Resources};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::PodSpec;
use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::{PolicySpec, Simulation};
use autoscale_sim_workload::{DiurnalLoad, HpaSpec};

const SCENARIO: &str = r#"
name: parity
seed: 9
duration: 2d
loads:
  web:
    diurnal: {base: 100, peak: 400, peakHour: 13, troughHour: 4, weekendFactor: 0.5, noise: 0.1}
workloads:
  - kind: Deployment
    metadata: {name: api}
    hpa: {load: web, targetPerReplica: 50, minReplicas: 2, maxReplicas: 20}
    template:
      spec:
        containers:
          - resources: {requests: {cpu: "1", memory: 2Gi}}
policies:
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
"#;

fn built() -> Simulation {
    let load = DiurnalLoad {
        peak_hour: 13.0,
        trough_hour: 4.0,
        weekend_factor: 0.5,
        noise: 0.1,
        ..DiurnalLoad::new(100.0, 400.0)
    };
    let api = PodSpec {
        requests: Resources::new(1_000, 2 * GIB, 1),
        ..Default::default()
    };
    Simulation::builder("parity")
        .seed(9)
        .duration(SimDuration::from_days(2))
        .diurnal_load("web", load)
        .deployment_with_hpa("api", api, "web", HpaSpec::new(50.0, 2, 20))
        .build()
        .expect("a valid setup")
}

#[test]
fn builder_defaults_match_file() {
    let scenario = load_str(SCENARIO, Path::new("parity.yaml"), &Overrides::default()).unwrap();
    let simulation = built();

    let (file, code) = (&scenario.config, simulation.config());
    assert_eq!(code.start_unix_secs, file.start_unix_secs);
    assert_eq!(code.zones, file.zones);
    assert_eq!(code.launch_latency, file.launch_latency);
    assert_eq!(code.termination_delay, file.termination_delay);
    assert_eq!(code.sample_interval, file.sample_interval);
    assert_eq!(
        code.deployments[0].startup_latency,
        file.deployments[0].startup_latency
    );
}

#[test]
fn builder_diurnal_matches_file() {
    let scenario = load_str(SCENARIO, Path::new("parity.yaml"), &Overrides::default()).unwrap();
    let simulation = built();

    assert_eq!(
        simulation.config().loads[0].trace.values(),
        scenario.config.loads[0].trace.values()
    );
}

#[test]
fn builder_run_matches_file() {
    let scenario = load_str(SCENARIO, Path::new("parity.yaml"), &Overrides::default()).unwrap();
    let from_file = Simulation::new(scenario.config).unwrap();
    let in_code = built();
    let policy = &scenario.policies[0];
    let PolicySpec::Karpenter(_) = policy else {
        panic!("the scenario's policy is Karpenter");
    };

    let (file_run, code_run) = (from_file.run(policy), in_code.run(policy));

    assert_eq!(code_run.report, file_run.report);
    assert_eq!(code_run.decisions, file_run.decisions);
}
