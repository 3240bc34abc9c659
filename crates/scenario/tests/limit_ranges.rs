//! LimitRanges from scenario files: the defaults that LimitRanger gives containers, the pods it
//! rejects, and the DaemonSet overhead that the autoscalers underestimate when a LimitRange
//! fills in a daemon pod's requests (user report aws/karpenter-provider-aws #3199).

use std::path::Path;

use autoscale_sim_cloud::Resources;
use autoscale_sim_scenario::{Overrides, Scenario, load_str};
use autoscale_sim_sim::Simulation;

const MIB: i64 = 1 << 20;
const GIB: i64 = 1 << 30;

fn scenario(yaml: &str) -> Scenario {
    load_str(yaml, Path::new("limits.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn error(yaml: &str) -> String {
    match load_str(yaml, Path::new("limits.yaml"), &Overrides::default()) {
        Ok(_) => panic!("the scenario loads, but it should be rejected"),
        Err(e) => e.to_string(),
    }
}

/// Requests of the Deployment named `name`.
fn deployment_requests(scenario: &Scenario, name: &str) -> Resources {
    let deployment = scenario
        .config
        .deployments
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no Deployment {name}"));
    deployment.spec.requests
}

/// A LimitRange in `default` and one in `batch`, and Deployments that leave out requests.
const DEFAULTS: &str = r#"
name: limit-range-defaults
seed: 1
duration: 1h
workloads:
  - kind: LimitRange
    metadata: {name: b-defaults}
    spec:
      limits:
        - type: Container
          defaultRequest: {cpu: 250m, memory: 256Mi}
          default: {cpu: "1", memory: 1Gi}
  - kind: LimitRange
    metadata: {name: a-defaults}
    spec:
      limits:
        - type: Container
          defaultRequest: {cpu: 100m}
  - kind: LimitRange
    metadata: {name: ceiling, namespace: batch}
    spec:
      limits:
        - type: Container
          max: {cpu: "2", memory: 4Gi}
        - type: Pod
          max: {cpu: "4"}
        - type: PersistentVolumeClaim
          max: {storage: 10Gi}
  - kind: Deployment
    metadata: {name: bare}
    replicas: 1
    template:
      spec:
        containers: [{name: app}]
  - kind: Deployment
    metadata: {name: limited}
    replicas: 1
    template:
      spec:
        containers: [{name: app, resources: {limits: {cpu: 500m}}}]
  - kind: Deployment
    metadata: {name: batch-job, namespace: batch}
    replicas: 1
    template:
      spec:
        containers: [{name: app}]
  - kind: Deployment
    metadata: {name: elsewhere, namespace: tools}
    replicas: 1
    template:
      spec:
        containers: [{name: app, resources: {requests: {cpu: 50m}}}]
policies:
  - name: fixed
    static: {instanceType: m5.2xlarge, count: 1}
"#;

#[test]
fn defaults_fill_missing_requests() {
    let scenario = scenario(DEFAULTS);

    // a-defaults sorts first, so its cpu request wins; memory comes from b-defaults.
    assert_eq!(
        deployment_requests(&scenario, "bare"),
        Resources::new(100, 256 * MIB, 1)
    );
    // A container's own limit sets its request before the LimitRange is consulted.
    assert_eq!(
        deployment_requests(&scenario, "limited"),
        Resources::new(500, 256 * MIB, 1)
    );
    // In batch, the default limit and then the default request come from max.
    assert_eq!(
        deployment_requests(&scenario, "batch-job"),
        Resources::new(2000, 4 * GIB, 1)
    );
    // No LimitRange in tools.
    assert_eq!(
        deployment_requests(&scenario, "elsewhere"),
        Resources::new(50, 0, 1)
    );
}

#[test]
fn volume_claim_items_warn() {
    let scenario = scenario(DEFAULTS);

    assert_eq!(scenario.warnings.len(), 1, "{:?}", scenario.warnings);
    assert!(
        scenario.warnings[0].ends_with(
            "field workloads[2].spec.limits[2].type: LimitRange ceiling: PersistentVolumeClaim items are accepted and not enforced, because the simulation has no volumes"
        ),
        "{:?}",
        scenario.warnings
    );
}

/// A Pod item in `batch` and one Deployment there, whose pod spec replaces `POD_SPEC`.
const POD_ITEM: &str = r#"
name: pod-limits
seed: 1
duration: 1h
workloads:
  - kind: LimitRange
    metadata: {name: per-pod, namespace: batch}
    spec:
      limits:
        - type: Pod
          min: {memory: 1Gi}
          max: {cpu: "4"}
          maxLimitRequestRatio: {memory: "2"}
  - kind: Deployment
    metadata: {name: job, namespace: batch}
    replicas: 1
    template:
      spec:
        POD_SPEC
policies:
  - name: fixed
    static: {instanceType: m5.2xlarge, count: 1}
"#;

fn pod_item_scenario(pod_spec: &str) -> String {
    POD_ITEM.replace("POD_SPEC", pod_spec)
}

#[test]
fn pod_items_accept_totals() {
    // The sidecar runs beside the app and the setup container runs before both, so the cpu
    // limit total is max(2 + 1, 3) = 3, within the Pod max of 4.
    let yaml = pod_item_scenario(
        "containers: [{name: app, resources: {limits: {cpu: \"2\", memory: 1Gi}}}]
        initContainers:
          - {name: setup, resources: {limits: {cpu: \"3\", memory: 1Gi}}}
          - {name: proxy, restartPolicy: Always, resources: {limits: {cpu: \"1\", memory: 1Gi}}}",
    );

    let scenario = scenario(&yaml);

    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    assert_eq!(
        deployment_requests(&scenario, "job"),
        Resources::new(3000, 2 * GIB, 1)
    );
}

#[test]
fn pod_items_reject_totals() {
    let cases = [
        (
            // A sidecar runs beside the containers, so its limit adds to theirs: 2 + 3 > 4.
            "containers: [{name: app, resources: {limits: {cpu: \"2\", memory: 1Gi}}}]
        initContainers:
          - {name: proxy, restartPolicy: Always, resources: {limits: {cpu: \"3\", memory: 1Gi}}}",
            "limits.yaml:19:60: field workloads[1].template.spec.containers: LimitRange per-pod rejects the pods: the pod's total cpu limit 5 is above the maximum 4",
        ),
        (
            // A Pod max needs a limit, and no container sets one.
            "containers: [{name: app, resources: {requests: {cpu: \"1\", memory: 1Gi}}}]",
            "limits.yaml:19:62: field workloads[1].template.spec.containers: LimitRange per-pod rejects the pods: the pod has no cpu limit, and the maximum is 4",
        ),
        (
            "containers: [{name: app, resources: {limits: {cpu: \"1\", memory: 512Mi}}}]",
            "limits.yaml:19:73: field workloads[1].template.spec.containers: LimitRange per-pod rejects the pods: the pod's total memory request 512Mi is below the minimum 1Gi",
        ),
        (
            "containers:
          - {name: app, resources: {requests: {memory: 512Mi}, limits: {cpu: \"1\", memory: 2Gi}}}
          - {name: log, resources: {requests: {memory: 512Mi}, limits: {memory: 512Mi}}}",
            "limits.yaml:20:91: field workloads[1].template.spec.containers: LimitRange per-pod rejects the pods: the pod's total memory limit 2560Mi is more than maxLimitRequestRatio 2 times the request 1Gi",
        ),
    ];
    for (pod_spec, expected) in cases {
        let message = error(&pod_item_scenario(pod_spec));
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn pod_item_defaults_rejected() {
    let yaml = pod_item_scenario("containers: [{name: app}]").replace(
        "          min: {memory: 1Gi}",
        "          default: {memory: 1Gi}",
    );

    let message = error(&yaml);

    assert!(
        message.contains(
            "limits.yaml:11:29: field workloads[0].spec.limits[0].default.memory, value \"1Gi\": a Pod item takes no default"
        ),
        "{message}"
    );
}

#[test]
fn violations_rejected() {
    let below_min = DEFAULTS
        .replace("          max: {cpu: \"2\", memory: 4Gi}", "          min: {cpu: 300m}")
        .replace(
            "    metadata: {name: batch-job, namespace: batch}\n    replicas: 1\n    template:\n      spec:\n        containers: [{name: app}]",
            "    metadata: {name: batch-job, namespace: batch}\n    replicas: 1\n    template:\n      spec:\n        containers: [{name: app, resources: {requests: {cpu: 200m}}}]",
        );
    let over_max = DEFAULTS.replace(
        "        containers: [{name: app}]\n  - kind: Deployment\n    metadata: {name: elsewhere",
        "        containers: [{name: app, resources: {limits: {cpu: \"3\"}}}]\n  - kind: Deployment\n    metadata: {name: elsewhere",
    );
    let ratio = DEFAULTS.replace(
        "          max: {cpu: \"2\", memory: 4Gi}",
        "          maxLimitRequestRatio: {cpu: \"2\"}\n          default: {cpu: \"1\"}\n          defaultRequest: {cpu: 400m}",
    );
    let request_over_default = DEFAULTS.replace(
        "        containers: [{name: app, resources: {limits: {cpu: 500m}}}]",
        "        containers: [{name: app, resources: {requests: {memory: 2Gi}}}]",
    );
    assert_ne!(below_min, DEFAULTS);
    assert_ne!(over_max, DEFAULTS);
    assert_ne!(ratio, DEFAULTS);
    assert_ne!(request_over_default, DEFAULTS);

    let cases = [
        (
            below_min,
            "limits.yaml:46:62: field workloads[5].template.spec.containers[0].resources: LimitRange ceiling rejects the pods: the cpu request 200m is below the minimum 300m",
        ),
        (
            over_max,
            "limits.yaml:46:60: field workloads[5].template.spec.containers[0].resources: LimitRange ceiling rejects the pods: the cpu limit 3 is above the maximum 2",
        ),
        (
            ratio,
            "limits.yaml:23:17: field workloads[5].template.spec.containers[0].resources: LimitRange ceiling rejects the pods: the cpu limit 1 is more than maxLimitRequestRatio 2 times the request 400m",
        ),
        (
            request_over_default,
            "limits.yaml:40:65: field workloads[4].template.spec.containers[0].resources.requests.memory, value \"2Gi\": the request is above the limit 1Gi that LimitRange b-defaults sets by default",
        ),
    ];
    for (yaml, expected) in cases {
        let message = error(&yaml);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn contradictory_item_rejected() {
    let yaml = DEFAULTS.replace(
        "          max: {cpu: \"2\", memory: 4Gi}",
        "          min: {cpu: 300m}\n          defaultRequest: {cpu: 200m}",
    );
    assert_ne!(yaml, DEFAULTS);

    let message = error(&yaml);

    assert!(
        message.contains(
            "limits.yaml:23:17: field workloads[2].spec.limits[0].min.cpu, value \"300m\": the min cpu is above the defaultRequest 200m"
        ),
        "{message}"
    );
    assert!(
        message.contains("keep min ≤ defaultRequest ≤ default ≤ max for cpu"),
        "{message}"
    );
}

#[test]
fn bad_item_type_rejected() {
    let yaml = DEFAULTS.replace("        - type: Pod\n", "        - type: Namespace\n");
    assert_ne!(yaml, DEFAULTS);

    let message = error(&yaml);

    assert!(
        message.contains("field workloads[2].spec.limits[1].type, value \"Namespace\""),
        "{message}"
    );
    assert!(
        message.contains("unknown LimitRange item type"),
        "{message}"
    );
}

/// A DaemonSet whose second container has no requests, which a LimitRange in kube-system
/// sets to 1 CPU, and a 15-CPU pod that Karpenter may only place on a c5.4xlarge (16 vCPUs).
const UNDERCOUNTED_DAEMONSET: &str = r#"
name: limit-range-overhead
seed: 1
duration: 2h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
workloads:
  - kind: LimitRange
    metadata: {name: container-defaults, namespace: kube-system}
    spec:
      limits:
        - type: Container
          defaultRequest: {cpu: "1", memory: 128Mi}
          default: {cpu: "2", memory: 256Mi}
  - kind: DaemonSet
    metadata: {name: node-agent, namespace: kube-system}
    template:
      spec:
        tolerations: [{operator: Exists}]
        containers:
          - {name: agent, resources: {requests: {cpu: 630m, memory: 256Mi}}}
          - {name: log-shipper}
  - kind: Deployment
    metadata: {name: solver}
    replicas: 1
    template:
      spec:
        containers: [{name: solver, resources: {requests: {cpu: "15", memory: 8Gi}}}]
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
                  - {key: node.kubernetes.io/instance-type, operator: In, values: [c5.4xlarge]}
                  - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
            disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 0s}
"#;

#[test]
fn daemonset_template_and_node_requests() {
    let scenario = scenario(UNDERCOUNTED_DAEMONSET);

    let daemonset = &scenario.config.daemonsets[0];
    assert_eq!(daemonset.spec.requests, Resources::new(630, 256 * MIB, 1));
    assert_eq!(daemonset.node_requests, Resources::new(1630, 384 * MIB, 1));
}

#[test]
fn karpenter_launch_retire_loop() {
    // Karpenter sizes the NodeClaim with 630m of DaemonSet overhead, so 15 CPUs fit on the
    // c5.4xlarge. Once the node is Ready its daemon pods take 1,630m and the pod no longer
    // fits: Karpenter launches another node and deletes the empty one, over and over.
    let scenario = scenario(UNDERCOUNTED_DAEMONSET);
    let output = Simulation::new(scenario.config.clone())
        .unwrap()
        .run(&scenario.policies[0]);

    let launches: Vec<u64> = output
        .decisions
        .iter()
        .filter(|d| d.action == "launch")
        .map(|d| d.time_ms)
        .collect();
    let first_delete = output
        .decisions
        .iter()
        .find(|d| d.action == "delete")
        .expect("an empty node is deleted");

    assert_eq!(launches[..3], [1_000, 41_000, 81_000]);
    assert_eq!(launches.len(), 161);
    assert_eq!(first_delete.node, "default-0");
    assert_eq!(first_delete.reason, "Empty");
    assert_eq!(first_delete.time_ms, 105_000);
    assert_eq!(output.report.pods_pending_at_end, 1);
}
