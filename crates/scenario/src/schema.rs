//! The scenario file's shape, field for field. Names follow Kubernetes and the autoscalers'
//! own manifests (camelCase), so that a Deployment's pod template or a NodePool pastes in.
//!
//! Values that need checks beyond their type (durations, quantities, instance types, file
//! paths, sizes) are kept as [`Spanned`] so that an error can point at them.

use std::collections::BTreeMap;

use autoscale_sim_kube::{
    NodeSelectorTerm, PodAffinityTerm, PreferredNodeTerm, Taint, Toleration,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use autoscale_sim_workload::DiurnalLoad;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

/// A scalar written as text or as a number (`cpu: 2` or `cpu: "500m"`), kept as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a string such as 500m or 2Gi")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub seed: u64,
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    pub duration: Spanned<String>,
    #[serde(default)]
    pub sample_interval: Option<Spanned<String>>,
    #[serde(default)]
    pub cloud: CloudSpec,
    #[serde(default)]
    pub scheduler: SchedulerSpec,
    #[serde(default)]
    pub loads: BTreeMap<String, LoadSpec>,
    pub workloads: Vec<WorkloadSpec>,
    pub policies: Vec<PolicyEntry>,
    #[serde(default)]
    pub snapshots: Vec<SnapshotSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudSpec {
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub zones: Option<Vec<String>>,
    #[serde(default)]
    pub catalog: Option<Spanned<String>>,
    #[serde(default)]
    pub launch_latency: Option<LatencySpec>,
    #[serde(default)]
    pub termination_delay: Option<Spanned<String>>,
    #[serde(default)]
    pub spot: Option<SpotYaml>,
    #[serde(default)]
    pub capacity_shortages: Vec<ShortageYaml>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpotYaml {
    #[serde(default)]
    pub discount: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    pub default_discount: Option<Spanned<f64>>,
    #[serde(default)]
    pub volatility: Option<Spanned<f64>>,
    #[serde(default)]
    pub price_change_interval: Option<Spanned<String>>,
    #[serde(default)]
    pub interruption_bands: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub default_interruption_band: Option<Spanned<String>>,
    #[serde(default)]
    pub interruptions_per_month: BTreeMap<String, Spanned<f64>>,
    /// Recorded spot prices: the JSON `aws ec2 describe-spot-price-history` prints, or a CSV
    /// file `timestamp,instance_type,zone,spot_usd_per_hour`.
    #[serde(default)]
    pub price_history: Option<Spanned<String>>,
    #[serde(default)]
    pub notice: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShortageYaml {
    #[serde(default)]
    pub instance_type: Option<Spanned<String>>,
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    pub capacity_type: Spanned<String>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LatencySpec {
    pub distribution: Spanned<String>,
    pub mean: Spanned<String>,
    #[serde(default)]
    pub stddev: Option<Spanned<String>>,
    #[serde(default)]
    pub min: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulerSpec {
    #[serde(default)]
    pub scoring_strategy: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadSpec {
    #[serde(default)]
    pub diurnal: Option<DiurnalLoad>,
    #[serde(default)]
    pub trace: Option<TraceSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceSpec {
    pub file: Spanned<String>,
    #[serde(default)]
    pub value_scale: Option<Spanned<f64>>,
    #[serde(default)]
    pub end: Option<Spanned<String>>,
    #[serde(default)]
    pub shift: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSpec {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub replicas: Option<Spanned<u32>>,
    #[serde(default)]
    pub hpa: Option<HpaYaml>,
    #[serde(default)]
    pub startup_latency: Option<Spanned<String>>,
    /// Pod template (Deployment, DaemonSet, Job).
    #[serde(default)]
    pub template: Option<PodTemplate>,
    /// PodDisruptionBudget spec.
    #[serde(default)]
    pub spec: Option<PdbSpecYaml>,
    /// Job arrivals.
    #[serde(default)]
    pub arrivals: Option<ArrivalsYaml>,
    /// Job run time.
    #[serde(default)]
    pub duration: Option<LatencySpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdbSpecYaml {
    #[serde(default)]
    pub selector: autoscale_sim_kube::LabelSelector,
    #[serde(default)]
    pub min_available: Option<Spanned<Scalar>>,
    #[serde(default)]
    pub max_unavailable: Option<Spanned<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArrivalsYaml {
    pub load: Spanned<String>,
    pub per_hour_per_unit: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaYaml {
    pub load: Spanned<String>,
    pub target_per_replica: Spanned<f64>,
    pub min_replicas: Spanned<u32>,
    pub max_replicas: Spanned<u32>,
    #[serde(default)]
    pub sync_period: Option<Spanned<String>>,
    #[serde(default)]
    pub tolerance: Option<Spanned<f64>>,
    #[serde(default)]
    pub scale_down_stabilization: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTemplate {
    #[serde(default)]
    pub metadata: Metadata,
    pub spec: PodSpecYaml,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSpecYaml {
    pub containers: Vec<Container>,
    #[serde(default)]
    pub init_containers: Vec<Container>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub affinity: Option<AffinityYaml>,
    #[serde(default)]
    pub topology_spread_constraints: Vec<Spanned<TopologySpreadConstraint>>,
    #[serde(default)]
    pub volumes: Vec<VolumeYaml>,
    #[serde(default)]
    pub service_account_name: Option<String>,
    #[serde(default)]
    pub security_context: Option<IgnoredAny>,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    #[serde(default)]
    pub priority: Option<i32>,
    #[serde(default)]
    pub priority_class_name: Option<String>,
    #[serde(default)]
    pub termination_grace_period_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub resources: ContainerResources,
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
    #[serde(default)]
    pub command: Option<IgnoredAny>,
    #[serde(default)]
    pub args: Option<IgnoredAny>,
    #[serde(default)]
    pub env: Option<IgnoredAny>,
    #[serde(default)]
    pub volume_mounts: Option<IgnoredAny>,
    #[serde(default)]
    pub readiness_probe: Option<IgnoredAny>,
    #[serde(default)]
    pub liveness_probe: Option<IgnoredAny>,
    #[serde(default)]
    pub image_pull_policy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerPort {
    #[serde(default)]
    pub name: Option<String>,
    pub container_port: u16,
    #[serde(default)]
    pub host_port: Option<u16>,
    #[serde(default)]
    pub protocol: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AffinityYaml {
    #[serde(default)]
    pub node_affinity: Option<NodeAffinityYaml>,
    #[serde(default)]
    pub pod_affinity: Option<PodAffinityYaml>,
    #[serde(default)]
    pub pod_anti_affinity: Option<PodAffinityYaml>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeAffinityYaml {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelectorYaml>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredNodeTerm>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorYaml {
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinityYaml {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeYaml {
    pub name: String,
    #[serde(default)]
    pub empty_dir: Option<EmptyDirYaml>,
    #[serde(default)]
    pub host_path: Option<IgnoredAny>,
    #[serde(default)]
    pub config_map: Option<IgnoredAny>,
    #[serde(default)]
    pub secret: Option<IgnoredAny>,
    #[serde(default)]
    pub projected: Option<IgnoredAny>,
    #[serde(default)]
    pub persistent_volume_claim: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmptyDirYaml {
    #[serde(default)]
    pub medium: Option<String>,
    #[serde(default)]
    pub size_limit: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerResources {
    #[serde(default)]
    pub requests: BTreeMap<String, Spanned<Scalar>>,
    #[serde(default)]
    pub limits: BTreeMap<String, Spanned<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyEntry {
    pub name: Spanned<String>,
    #[serde(default)]
    pub cluster_autoscaler: Option<ClusterAutoscalerYaml>,
    #[serde(default)]
    pub karpenter: Option<KarpenterYaml>,
    #[serde(default, rename = "static")]
    pub static_fleet: Option<StaticYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterAutoscalerYaml {
    #[serde(default)]
    pub flags: Vec<Spanned<String>>,
    pub node_groups: Vec<NodeGroupYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeGroupYaml {
    pub name: Spanned<String>,
    pub instance_type: Spanned<String>,
    pub min_size: Spanned<u32>,
    pub max_size: Spanned<u32>,
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    #[serde(default)]
    pub capacity_type: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<Taint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KarpenterYaml {
    pub node_pools: Vec<NodePoolManifest>,
    #[serde(default)]
    pub batch_idle_duration: Option<Spanned<String>>,
    #[serde(default)]
    pub batch_max_duration: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePoolManifest {
    pub api_version: Spanned<String>,
    pub kind: Spanned<String>,
    pub metadata: Metadata,
    pub spec: NodePoolSpecYaml,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePoolSpecYaml {
    pub template: NodeClaimTemplateYaml,
    #[serde(default)]
    pub disruption: Option<DisruptionYaml>,
    #[serde(default)]
    pub limits: BTreeMap<String, Spanned<Scalar>>,
    #[serde(default)]
    pub weight: Option<Spanned<i32>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClaimTemplateYaml {
    #[serde(default)]
    pub metadata: Metadata,
    pub spec: NodeClaimSpecYaml,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClaimSpecYaml {
    #[serde(default)]
    pub requirements: Vec<RequirementYaml>,
    #[serde(default)]
    pub taints: Vec<Taint>,
    #[serde(default)]
    pub startup_taints: Vec<Taint>,
    #[serde(default)]
    pub expire_after: Option<Spanned<String>>,
    #[serde(default)]
    pub termination_grace_period: Option<Spanned<String>>,
    #[serde(default)]
    pub node_class_ref: Option<NodeClassRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClassRef {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequirementYaml {
    pub key: Spanned<String>,
    pub operator: Spanned<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub min_values: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisruptionYaml {
    #[serde(default)]
    pub consolidation_policy: Option<Spanned<String>>,
    #[serde(default)]
    pub consolidate_after: Option<Spanned<String>>,
    #[serde(default)]
    pub budgets: Option<Vec<BudgetYaml>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetYaml {
    pub nodes: Spanned<Scalar>,
    #[serde(default)]
    pub reasons: Option<Vec<String>>,
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    #[serde(default)]
    pub duration: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaticYaml {
    pub instance_type: Spanned<String>,
    pub count: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotSpec {
    pub label: String,
    pub at: Spanned<String>,
}
