//! Pod requests from a scenario's pod template: extended resources such as GPUs, init and
//! sidecar containers, limits and overhead, and the instance types both autoscalers launch for
//! GPU pods.

use std::path::Path;

use autoscale_sim_cloud::{ExtendedResource, GIB, MIB, Resources};
use autoscale_sim_scenario::{Overrides, Scenario, load_str};
use autoscale_sim_sim::Simulation;

/// Builds a scenario with one Deployment of `replicas` pods whose pod spec is `pod_spec` (YAML
/// flow-mapping entries), under the policies in `policies`.
fn scenario(replicas: u32, pod_spec: &str, policies: &str) -> String {
    format!(
        r#"
name: resources
seed: 3
duration: 30m
workloads:
  - kind: Deployment
    metadata: {{name: trainer}}
    replicas: {replicas}
    template:
      spec: {{{pod_spec}}}
policies:
{policies}
"#
    )
}

const STATIC: &str = "  - {name: fixed, static: {instanceType: m5.xlarge, count: 1}}";

fn load(text: &str) -> Scenario {
    load_str(text, Path::new("resources.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("scenario failed to load: {e}"))
}

fn requests_of(pod_spec: &str) -> Resources {
    load(&scenario(1, pod_spec, STATIC)).config.deployments[0]
        .spec
        .requests
}

fn error_of(pod_spec: &str) -> String {
    match load_str(
        &scenario(1, pod_spec, STATIC),
        Path::new("resources.yaml"),
        &Overrides::default(),
    ) {
        Ok(_) => panic!("the scenario should be rejected"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn gpu_request_from_limit() {
    let requests = requests_of(
        "containers: [{resources: {requests: {cpu: 2, memory: 8Gi}, limits: {nvidia.com/gpu: 2}}}]",
    );
    assert_eq!(
        requests,
        Resources::new(2000, 8 * GIB, 1).with_extended(ExtendedResource::NvidiaGpu, 2)
    );
}

#[test]
fn unknown_extended_resource_takes_other_slot() {
    let requests = requests_of(
        "containers: [{resources: {requests: {cpu: 1, example.com/fpga: 1}, limits: {example.com/fpga: 1}}}]",
    );
    assert_eq!(requests.extended(ExtendedResource::Other), 1);
    assert_eq!(requests.extended(ExtendedResource::NvidiaGpu), 0);
}

#[test]
fn invalid_extended_resources_are_rejected() {
    let no_limit = error_of("containers: [{resources: {requests: {nvidia.com/gpu: 1}}}]");
    assert!(
        no_limit.contains("an extended resource needs a limit"),
        "{no_limit}"
    );

    let unequal = error_of(
        "containers: [{resources: {requests: {nvidia.com/gpu: 1}, limits: {nvidia.com/gpu: 2}}}]",
    );
    assert!(unequal.contains("must equal its limit"), "{unequal}");

    let fraction = error_of("containers: [{resources: {limits: {nvidia.com/gpu: 500m}}}]");
    assert!(fraction.contains("must be a whole number"), "{fraction}");

    let native = error_of("containers: [{resources: {requests: {hugepages-2Mi: 1Gi}}}]");
    assert!(
        native.contains("resource \"hugepages-2Mi\" is not modelled"),
        "{native}"
    );
}

#[test]
fn request_above_limit_is_rejected() {
    let message = error_of("containers: [{resources: {requests: {cpu: 2}, limits: {cpu: 1}}}]");
    assert!(
        message.contains("the request is above the limit"),
        "{message}"
    );
}

#[test]
fn cpu_limit_sets_missing_request() {
    let requests =
        requests_of("containers: [{resources: {requests: {memory: 1Gi}, limits: {cpu: 1500m}}}]");
    assert_eq!(requests, Resources::new(1500, GIB, 1));
}

#[test]
fn init_container_peak_wins() {
    // Containers sum to 1 CPU and 3 GiB; the largest init container needs 2 CPUs and 1 GiB, so
    // the pod requests 2 CPUs and 3 GiB, each resource separately.
    let requests = requests_of(
        "initContainers: [{resources: {requests: {cpu: 2, memory: 1Gi}}}, {resources: {requests: {cpu: 500m}}}],
         containers: [{resources: {requests: {cpu: 500m, memory: 1Gi}}}, {resources: {requests: {cpu: 500m, memory: 2Gi}}}]",
    );
    assert_eq!(requests, Resources::new(2000, 3 * GIB, 1));
}

#[test]
fn sidecars_add_to_containers_and_later_inits() {
    // The sidecar (restartPolicy Always) runs beside the containers: 1 + 0.25 CPU. The init
    // container after it runs beside it: 1.5 + 0.25 = 1.75 CPU, which is the peak. The init
    // container before it runs alone (1 CPU).
    let requests = requests_of(
        "initContainers: [{resources: {requests: {cpu: 1}}},
                          {restartPolicy: Always, resources: {requests: {cpu: 250m, memory: 64Mi}}},
                          {resources: {requests: {cpu: 1500m}}}],
         containers: [{resources: {requests: {cpu: 1, memory: 1Gi}}}]",
    );
    assert_eq!(requests, Resources::new(1750, GIB + 64 * MIB, 1));
}

#[test]
fn overhead_adds_to_requests() {
    let requests = requests_of(
        "overhead: {cpu: 250m, memory: 120Mi}, containers: [{resources: {requests: {cpu: 1, memory: 1Gi}}}]",
    );
    assert_eq!(requests, Resources::new(1250, GIB + 120 * MIB, 1));
}

#[test]
fn restart_policy_only_on_sidecars() {
    let on_container = error_of("containers: [{restartPolicy: Always, resources: {}}]");
    assert!(
        on_container.contains("only init containers take a restartPolicy"),
        "{on_container}"
    );
    let never = error_of(
        "initContainers: [{restartPolicy: Never, resources: {}}], containers: [{resources: {}}]",
    );
    assert!(never.contains("can only be Always"), "{never}");
}

/// Runs every policy of `text` and returns, per policy, the instance types it launched in
/// launch order and the pods still Pending at the end.
fn launched_types(text: &str) -> Vec<(String, Vec<String>, u64)> {
    let mut scenario = load(text);
    scenario.config.check_invariants = true;
    let simulation = Simulation::new(scenario.config.clone()).unwrap();
    scenario
        .policies
        .iter()
        .map(|policy| {
            let output = simulation.run(policy);
            let types = output
                .decisions
                .iter()
                .filter(|d| d.action == "launch")
                .map(|d| d.instance_type.clone())
                .collect();
            let pending = output.report.pods_pending_at_end;
            (policy.name().to_string(), types, pending)
        })
        .collect()
}

const GPU_POLICIES: &str = r#"
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: general, instanceType: m5.xlarge, minSize: 0, maxSize: 10}
        - {name: gpu, instanceType: g4dn.xlarge, minSize: 0, maxSize: 10}
        - {name: big-gpu, instanceType: g5.12xlarge, minSize: 0, maxSize: 10}
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
                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r, g, p]}"#;

#[test]
fn gpu_pods_launch_gpu_types() {
    let launched = launched_types(&scenario(
        2,
        "containers: [{resources: {requests: {cpu: 2, memory: 8Gi}, limits: {nvidia.com/gpu: 1}}}]",
        GPU_POLICIES,
    ));

    // Cluster Autoscaler's least-waste expander picks the one-GPU g4dn group over the 4-GPU g5
    // group, one node per pod. Karpenter packs both pods into one NodeClaim and launches its
    // cheapest type with two NVIDIA GPUs: the arm64 g5g.16xlarge, since nothing restricts the
    // architecture.
    assert_eq!(
        launched,
        vec![
            (
                "cluster-autoscaler".to_string(),
                vec!["g4dn.xlarge".to_string(), "g4dn.xlarge".to_string()],
                0
            ),
            ("karpenter".to_string(), vec!["g5g.16xlarge".to_string()], 0),
        ]
    );
}

#[test]
fn single_gpu_pod_launches_cheapest() {
    let launched = launched_types(&scenario(
        1,
        "containers: [{resources: {requests: {cpu: 2, memory: 8Gi}, limits: {nvidia.com/gpu: 1}}}]",
        GPU_POLICIES,
    ));

    assert_eq!(
        launched[1],
        ("karpenter".to_string(), vec!["g4dn.xlarge".to_string()], 0)
    );
}

#[test]
fn amd_gpu_pod_launches_g4ad() {
    let launched = launched_types(&scenario(
        1,
        "containers: [{resources: {requests: {cpu: 2, memory: 8Gi}, limits: {amd.com/gpu: 1}}}]",
        &GPU_POLICIES.replace("g4dn.xlarge", "g4ad.xlarge"),
    ));

    // Cluster Autoscaler's AWS provider advertises a template's GPUs as nvidia.com/gpu whatever
    // their maker, so no node group can hold the pod and it stays Pending.
    assert_eq!(launched[0], ("cluster-autoscaler".to_string(), vec![], 1));
    assert_eq!(
        launched[1],
        ("karpenter".to_string(), vec!["g4ad.xlarge".to_string()], 0)
    );
}

#[test]
fn neuron_pod_launches_inferentia() {
    let policies = GPU_POLICIES
        .replace("g4dn.xlarge", "inf2.xlarge")
        .replace("values: [c, m, r, g, p]", "values: [c, m, r, inf]");
    let text = scenario(
        1,
        "containers: [{resources: {requests: {cpu: 2, memory: 8Gi}, limits: {aws.amazon.com/neuron: 1}}}]",
        &policies,
    );

    let warnings = load(&text).warnings;
    let launched = launched_types(&text);

    // Karpenter launches the cheapest type with a Neuron chip and room for 8 GiB,
    // inf1.2xlarge (inf1.xlarge has 8 GiB in all). Cluster
    // Autoscaler's templates advertise no Neuron device, so the pod stays Pending under it, and
    // loading the scenario warns why.
    assert_eq!(launched[0], ("cluster-autoscaler".to_string(), vec![], 1));
    assert_eq!(
        launched[1],
        ("karpenter".to_string(), vec!["inf1.2xlarge".to_string()], 0)
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with(
            "workload trainer: no node that policy cluster-autoscaler may launch can hold its pods (requests cpu 2, memory 8Gi, aws.amazon.com/neuron 1), because Cluster Autoscaler's node group templates advertise GPUs only, as nvidia.com/gpu; they will stay Pending"
        ),
        "{warnings:?}"
    );
}
