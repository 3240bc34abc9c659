//! Karpenter NodePool manifests as users write them: the example NodePool of the Karpenter v1
//! documentation loads, and bad `minValues` and disruption budgets are rejected with the file,
//! line, field, value and fix.

use std::path::Path;

use autoscale_sim_policy::{BudgetNodes, BudgetReason, DO_NOT_DISRUPT, NodePool};
use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::PolicySpec;

mod support;
use support::TempFolder;

/// Returns a valid scenario whose only policy is Karpenter with the NodePool `node_pool`, a
/// manifest indented to sit under `nodePools:` (each line starts at column 9).
fn with_node_pool(node_pool: &str) -> String {
    format!(
        "name: pools
seed: 1
start: 2026-01-05T00:00:00Z
duration: 1h
cloud:
  zones: [us-east-1a, us-east-1b]
workloads:
  - kind: Deployment
    metadata: {{name: web}}
    replicas: 1
    template:
      spec:
        containers: [{{name: web, resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}}}]
policies:
  - name: karpenter
    karpenter:
      nodePools:
{node_pool}"
    )
}

/// Loads the scenario around `node_pool` and returns the NodePool, or the error message.
fn load_pool(node_pool: &str) -> Result<NodePool, String> {
    let scenario = load_str(
        &with_node_pool(node_pool),
        Path::new("pools.yaml"),
        &Overrides::default(),
    )
    .map_err(|e| e.to_string())?;
    match &scenario.policies[0] {
        PolicySpec::Karpenter(config) => Ok(config.node_pools[0].clone()),
        other => panic!("expected Karpenter, found {other:?}"),
    }
}

/// The example NodePool of the Karpenter v1 documentation (`concepts/nodepools`), with its
/// `a | b` placeholders resolved, the zones changed to the scenario's, and the
/// `instance-hypervisor` requirement left out because the built-in catalog has no hypervisor
/// label.
const DOCS_NODE_POOL: &str = r#"        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata:
            name: default
          spec:
            template:
              metadata:
                labels:
                  billing-team: my-team
                annotations:
                  example.com/owner: "my-team"
              spec:
                nodeClassRef:
                  group: karpenter.k8s.aws
                  kind: EC2NodeClass
                  name: default
                taints:
                  - key: example.com/special-taint
                    effect: NoSchedule
                startupTaints:
                  - key: example.com/another-taint
                    effect: NoSchedule
                expireAfter: 720h
                terminationGracePeriod: 48h
                requirements:
                  - key: "karpenter.k8s.aws/instance-category"
                    operator: In
                    values: ["c", "m", "r"]
                    minValues: 2
                  - key: "karpenter.k8s.aws/instance-family"
                    operator: In
                    values: ["m5","m5d","c5","c5d","c4","r4"]
                    minValues: 5
                  - key: "karpenter.k8s.aws/instance-cpu"
                    operator: In
                    values: ["4", "8", "16", "32"]
                  - key: "karpenter.k8s.aws/instance-generation"
                    operator: Gt
                    values: ["2"]
                  - key: "topology.kubernetes.io/zone"
                    operator: In
                    values: ["us-east-1a", "us-east-1b"]
                  - key: "kubernetes.io/arch"
                    operator: In
                    values: ["arm64", "amd64"]
                  - key: "karpenter.sh/capacity-type"
                    operator: In
                    values: ["spot", "on-demand"]
            disruption:
              consolidationPolicy: WhenEmptyOrUnderutilized
              consolidateAfter: 1m
              budgets:
              - nodes: 10%
              - schedule: "0 9 * * mon-fri"
                duration: 8h
                nodes: "0"
            limits:
              cpu: "1000"
              memory: 1000Gi
            weight: 10
"#;

#[test]
fn docs_example_loads() {
    let pool = load_pool(DOCS_NODE_POOL).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(pool.name, "default");
    assert_eq!(pool.weight, 10);
    assert_eq!(pool.labels["billing-team"], "my-team");
    assert_eq!(pool.annotations["example.com/owner"], "my-team");
    assert_eq!(pool.taints.len(), 1);
    let min_values: Vec<Option<u32>> = pool.requirements.iter().map(|r| r.min_values).collect();
    assert_eq!(min_values, [Some(2), Some(5), None, None, None, None, None]);
    assert_eq!(pool.budgets, [BudgetNodes::Percent(10)]);
    assert_eq!(pool.conditional_budgets.len(), 1);
    assert_eq!(pool.conditional_budgets[0].nodes, BudgetNodes::Count(0));
    assert_eq!(pool.limits.map(|l| l.cpu_millis), Some(1_000_000));
}

/// Returns a NodePool manifest whose template annotates its nodes with do-not-disrupt set to
/// `value`.
fn annotated_pool(value: &str) -> String {
    format!(
        "        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {{name: pinned}}
          spec:
            template:
              metadata:
                annotations: {{karpenter.sh/do-not-disrupt: {value}}}
              spec: {{}}
"
    )
}

#[test]
fn do_not_disrupt_template_annotation_loads() {
    let pool = load_pool(&annotated_pool("\"true\"")).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(pool.annotations[DO_NOT_DISRUPT], "true");
}

#[test]
fn do_not_disrupt_other_value_warns() {
    // Karpenter reads only "true" on a node; a duration, which pods may carry, does nothing.
    let scenario = load_str(
        &with_node_pool(&annotated_pool("\"1h\"")),
        Path::new("pools.yaml"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        scenario.warnings,
        [
            "pools.yaml:24:60: field policies[0].karpenter.nodePools[0].spec.template.metadata.annotations.karpenter.sh/do-not-disrupt: \"1h\" does not keep the nodes from disruption: Karpenter reads only \"true\" on a node (a duration works on a pod's annotation only)"
        ]
    );
    let pool = load_pool(&annotated_pool("\"false\"")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pool.annotations[DO_NOT_DISRUPT], "false");
    let unquoted = load_pool(&annotated_pool("true")).unwrap_err();
    assert!(unquoted.contains("quote it"), "{unquoted}");
}

#[test]
fn docs_example_budget_window() {
    // Monday 2026-01-05: 10 % of 30 nodes (3) at 08:00, none from 09:00 to 17:00.
    let pool = load_pool(DOCS_NODE_POOL).unwrap_or_else(|e| panic!("{e}"));
    let monday = 1_767_571_200;

    assert_eq!(
        pool.allowed_disruptions(BudgetReason::Underutilized, 30, monday + 8 * 3600),
        3
    );
    assert_eq!(
        pool.allowed_disruptions(BudgetReason::Underutilized, 30, monday + 9 * 3600),
        0
    );
    assert_eq!(
        pool.allowed_disruptions(BudgetReason::Drifted, 30, monday + 17 * 3600),
        3
    );
}

/// Returns a NodePool manifest whose disruption block is `disruption` (at column 13) and whose
/// only requirement carries `requirement_extra` after its values.
fn pool_with(disruption: &str, requirement: &str) -> String {
    format!(
        "        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {{name: default}}
          spec:
            template:
              spec:
                requirements:
{requirement}
            disruption:
{disruption}
"
    )
}

const CATEGORY: &str =
    "                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m]}";

fn error_for(disruption: &str, requirement: &str) -> String {
    load_pool(&pool_with(disruption, requirement)).expect_err("the NodePool should be rejected")
}

#[test]
fn budget_reasons_and_window_load() {
    let pool = load_pool(&pool_with(
        "              budgets:\n              - {nodes: \"20%\", reasons: [Empty, Drifted]}\n              - {nodes: \"1\", schedule: \"@daily\", duration: 1h30m}",
        CATEGORY,
    ))
    .unwrap_or_else(|e| panic!("{e}"));

    assert!(pool.budgets.is_empty());
    assert_eq!(
        pool.conditional_budgets[0].reasons,
        [BudgetReason::Empty, BudgetReason::Drifted]
    );
    assert_eq!(
        pool.conditional_budgets[1].window.as_ref().map(|w| w.1),
        Some(5400)
    );
}

#[test]
fn bad_budget_reason_message() {
    let message = error_for(
        "              budgets:\n              - {nodes: \"1\", reasons: [Expired]}",
        CATEGORY,
    );

    assert!(
        message.starts_with("pools.yaml:28:40: field policies[0].karpenter.nodePools[0].spec.disruption.budgets[0].reasons[0], value \"Expired\": unknown disruption reason\n  fix: write Underutilized, Empty or Drifted"),
        "{message}"
    );
}

#[test]
fn bad_budget_schedule_message() {
    let message = error_for(
        "              budgets:\n              - {nodes: \"0\", schedule: \"0 25 * * *\", duration: 8h}",
        CATEGORY,
    );

    assert!(
        message.starts_with("pools.yaml:28:40: field policies[0].karpenter.nodePools[0].spec.disruption.budgets[0].schedule, value \"0 25 * * *\": invalid cron schedule: \"25\" is outside 0-23\n  fix: write five fields"),
        "{message}"
    );
}

#[test]
fn schedule_without_duration_rejected() {
    let message = error_for(
        "              budgets:\n              - {nodes: \"0\", schedule: \"@daily\"}",
        CATEGORY,
    );

    assert!(
        message.contains("field policies[0].karpenter.nodePools[0].spec.disruption.budgets[0].duration: a budget with a schedule needs a duration\n  fix: add a duration such as 8h or 30m"),
        "{message}"
    );
}

#[test]
fn seconds_duration_rejected() {
    let message = error_for(
        "              budgets:\n              - {nodes: \"0\", schedule: \"@daily\", duration: 90s}",
        CATEGORY,
    );

    assert!(
        message.contains(
            "budgets[0].duration, value \"90s\": a budget duration takes hours and minutes only"
        ),
        "{message}"
    );
}

#[test]
fn min_values_above_values_rejected() {
    let message = error_for(
        "              consolidateAfter: 0s",
        "                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m], minValues: 3}",
    );

    assert!(message.starts_with("pools.yaml:25:105: "), "{message}");
    assert!(
        message.contains("field policies[0].karpenter.nodePools[0].spec.template.spec.requirements[0].minValues, value \"3\": minValues is larger than the 2 values the In requirement lists\n  fix: list at least as many values as minValues, or lower minValues"),
        "{message}"
    );
}

#[test]
fn min_values_zero_rejected() {
    let message = error_for(
        "              consolidateAfter: 0s",
        "                  - {key: karpenter.k8s.aws/instance-category, operator: Exists, minValues: 0}",
    );

    assert!(
        message.contains("requirements[0].minValues, value \"0\": minValues must be from 1 to 50\n  fix: write a whole number from 1 to 50, or leave minValues out"),
        "{message}"
    );
}

/// A folder with a scenario and a manifest file, removed on drop.
struct Folder(TempFolder);

impl Folder {
    fn new(name: &str, manifests: &str) -> Self {
        let folder = TempFolder::new(&format!("manifests-{name}"));
        let scenario =
            with_node_pool("").replace("      nodePools:\n", "      manifests: [karpenter.yaml]\n");
        folder.write("scenario.yaml", &scenario);
        folder.write("karpenter.yaml", manifests);
        Folder(folder)
    }

    fn load(&self) -> Result<autoscale_sim_scenario::Scenario, String> {
        let path = self.0.path().join("scenario.yaml");
        autoscale_sim_scenario::load(&path, &Overrides::default()).map_err(|e| e.to_string())
    }
}

/// A NodePool and the EC2NodeClass it names, as two documents of one file.
const MANIFEST_FILE: &str = "# Karpenter objects of the cluster
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: general
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: small-pods}
      requirements:
        - {key: karpenter.k8s.aws/instance-category, operator: In, values: [m]}
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: small-pods
spec:
  amiFamily: AL2023
  role: KarpenterNodeRole
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  kubelet:
    maxPods: 20
    kubeReserved: {cpu: 200m, memory: 100Mi, ephemeral-storage: 3Gi}
    systemReserved: {cpu: 100m, memory: 100Mi}
    evictionHard: {memory.available: 5%, nodefs.available: 10%}
    podsPerCore: 2
";

#[test]
fn manifest_file_loads() {
    let folder = Folder::new("ok", MANIFEST_FILE);

    let scenario = folder.load().unwrap_or_else(|e| panic!("{e}"));

    let PolicySpec::Karpenter(config) = &scenario.policies[0] else {
        panic!("expected Karpenter");
    };
    let pool = &config.node_pools[0];
    assert_eq!(pool.name, "general");
    assert_eq!(pool.kubelet.max_pods, Some(20));
    assert_eq!(pool.kubelet.kube_reserved_cpu_millis, Some(200));
    assert_eq!(
        pool.kubelet.system_reserved_memory_bytes,
        Some(100 * 1024 * 1024)
    );
    assert_eq!(
        pool.kubelet.eviction_hard_memory,
        Some(autoscale_sim_cloud::EvictionThreshold::Basis(500))
    );
    assert!(
        scenario.warnings.iter().any(|w| w.ends_with(
            "karpenter.yaml: EC2NodeClass small-pods: amiFamily, role, subnetSelectorTerms, kubelet.podsPerCore, kubelet.kubeReserved.ephemeral-storage, kubelet.evictionHard.nodefs.available accepted but not modelled"
        )),
        "{:?}",
        scenario.warnings
    );
}

#[test]
fn unknown_node_class_message() {
    let folder = Folder::new(
        "missing-class",
        &MANIFEST_FILE.replace("name: small-pods}", "name: large-pods}"),
    );

    let message = folder.load().unwrap_err();

    assert!(
        message.contains("karpenter.yaml:4:7: field documents[0].spec.template.spec.nodeClassRef.name, value \"large-pods\": no EC2NodeClass has this name\n  fix: name one of the EC2NodeClasses given: small-pods"),
        "{message}"
    );
}

#[test]
fn bad_max_pods_names_manifest_file() {
    let folder = Folder::new(
        "bad-max-pods",
        &MANIFEST_FILE.replace("maxPods: 20", "maxPods: 0"),
    );

    let message = folder.load().unwrap_err();

    assert!(
        message.contains("karpenter.yaml:23:14: field documents[1].spec.kubelet.maxPods, value \"0\": maxPods must be from 1 to 10000\n  fix: write a whole number such as 110"),
        "{message}"
    );
}

#[test]
fn other_kind_rejected() {
    let folder = Folder::new(
        "other-kind",
        &MANIFEST_FILE.replace("kind: EC2NodeClass\n", "kind: ConfigMap\n"),
    );

    let message = folder.load().unwrap_err();

    assert!(
        message.contains("field documents[1].kind, value \"ConfigMap\": the document is neither a NodePool nor an EC2NodeClass"),
        "{message}"
    );
}

#[test]
fn unmet_min_values_warns() {
    // Two families, both of one category each: three categories can never be met.
    let pool = "        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: general}
          spec:
            template:
              spec:
                requirements:
                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [c6a, m6a]}
                  - {key: karpenter.k8s.aws/instance-category, operator: Exists, minValues: 3}
";
    let scenario = load_str(
        &with_node_pool(pool),
        Path::new("pools.yaml"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scenario.warnings,
        [
            "pools.yaml: NodePool general: requirement karpenter.k8s.aws/instance-category has minValues 3, but the instance types the NodePool allows have only 2 values of it, so it launches no node"
        ]
    );

    let met = pool.replace("minValues: 3", "minValues: 2");
    let scenario = load_str(
        &with_node_pool(&met),
        Path::new("pools.yaml"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
}

#[test]
fn pointless_durations_warn() {
    let pool = "        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: general}
          spec:
            template:
              spec:
                expireAfter: 0s
                requirements:
                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5]}
";
    let yaml = with_node_pool(pool).replace(
        "    karpenter:\n",
        "    karpenter:\n      batchIdleDuration: 1m\n      batchMaxDuration: 10s\n",
    );

    let scenario = load_str(&yaml, Path::new("pools.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        scenario.warnings,
        [
            "pools.yaml:17:26: field policies[0].karpenter.batchIdleDuration: 1m is longer than batchMaxDuration (10s), which ends every batch first, so it changes nothing",
            "pools.yaml:26:30: field policies[0].karpenter.nodePools[0].spec.template.spec.expireAfter: every node expires as soon as it launches, so its pods never run; write a longer duration or Never",
        ]
    );
}

#[test]
fn observed_run_keeps_kubelet_settings() {
    // Observing a run changes nothing in it, so nodes of a NodePool whose EC2NodeClass sets
    // maxPods: 20 get that allocatable in both ways of running.
    let folder = Folder::new("observed", MANIFEST_FILE);
    let scenario = folder.load().unwrap_or_else(|e| panic!("{e}"));
    let simulation = autoscale_sim_sim::Simulation::new(scenario.config.clone()).unwrap();
    let policy = &scenario.policies[0];

    let plain = simulation.run(policy);
    let mut calls = 0;
    let observed = simulation.run_observed(
        policy,
        autoscale_sim_engine::SimDuration::from_hours(1),
        &mut |_| calls += 1,
    );

    assert!(calls > 0);
    assert!(plain.report.nodes_launched > 0);
    assert_eq!(observed, plain);
}

/// Returns the error for a NodePool whose only requirement is `requirement`, on line 25.
fn requirement_error(requirement: &str) -> String {
    error_for(
        "              consolidateAfter: 1m",
        &format!("                  - {requirement}"),
    )
}

#[test]
fn unmodelled_label_requirement_names_key() {
    // The catalog has no local-NVMe sizes, so even DoesNotExist cannot be evaluated.
    let message =
        requirement_error("{key: karpenter.k8s.aws/instance-local-nvme, operator: DoesNotExist}");

    assert!(
        message.starts_with("pools.yaml:25:27: field policies[0].karpenter.nodePools[0].spec.template.spec.requirements[0].key, value \"karpenter.k8s.aws/instance-local-nvme\": Karpenter labels nodes with this key, but the built-in catalog has no values for it, so a requirement on it is not modelled\n  fix: remove the requirement, and choose instance types by"),
        "{message}"
    );
}

#[test]
fn custom_label_requirement_needs_template_label() {
    let message = requirement_error("{key: example.com/team, operator: Exists}");

    assert!(
        message.starts_with("pools.yaml:25:27: field policies[0].karpenter.nodePools[0].spec.template.spec.requirements[0].key, value \"example.com/team\": a requirement on a label that is neither an instance-type label nor set under spec.template.metadata.labels is not modelled: Karpenter would take the node's value from the pods that need it\n  fix: set the label's value under spec.template.metadata.labels (such as example.com/team: example), or remove the requirement"),
        "{message}"
    );
}

#[test]
fn custom_label_does_not_exist_loads() {
    // Nodes here carry no custom label, so DoesNotExist holds for every instance type.
    let pool = load_pool(&pool_with(
        "              consolidateAfter: 1m",
        "                  - {key: example.com/team, operator: DoesNotExist}",
    ))
    .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(pool.requirements[0].key, "example.com/team");
}

#[test]
fn unmodelled_node_selector_warns() {
    let yaml = with_node_pool(&pool_with("              consolidateAfter: 1m", CATEGORY)).replace(
        "      spec:\n        containers:",
        "      spec:\n        nodeSelector: {karpenter.k8s.aws/instance-cpu-manufacturer: amd}\n        containers:",
    );
    let scenario =
        autoscale_sim_scenario::load_str(&yaml, Path::new("pools.yaml"), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));

    // The reason comes first, then the check that finds no node for the pods.
    assert_eq!(
        scenario.warnings[0],
        "pools.yaml: field workloads[0].template.spec: the pods need nodes labelled karpenter.k8s.aws/instance-cpu-manufacturer, which Karpenter sets but the built-in catalog has no values for, so no node here carries it and the pods stay Pending"
    );
    assert_eq!(
        scenario.warnings[1],
        "pools.yaml: workload web: no node that policy karpenter may launch can hold its pods (requests cpu 500m, memory 1Gi); they will stay Pending"
    );
}

#[test]
fn requirement_against_template_label_names_both() {
    let pool = pool_with(
        "              consolidateAfter: 1m",
        "                  - {key: team, operator: In, values: [red]}",
    )
    .replace(
        "            template:\n              spec:",
        "            template:\n              metadata: {labels: {team: blue}}\n              spec:",
    );

    let message = load_pool(&pool).expect_err("the NodePool should be rejected");

    assert!(
        message.starts_with("pools.yaml:26:27: field policies[0].karpenter.nodePools[0].spec.template.spec.requirements[0].key, value \"team\": the requirement excludes the template's own label team: blue, so the NodePool can launch no node\n  fix: make the requirement allow blue, or change the label under spec.template.metadata.labels"),
        "{message}"
    );
}
