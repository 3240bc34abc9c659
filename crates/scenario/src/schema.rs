//! The scenario file's shape, field for field. Names follow Kubernetes and the autoscalers'
//! own manifests (camelCase), so that a Deployment's pod template or a NodePool pastes in.
//!
//! Values that need checks beyond their type (durations, quantities, instance types, file
//! paths, sizes) are kept as [`Spanned`] so that an error can point at them.

use std::collections::BTreeMap;

use autoscale_sim_kube::label::LabelKey;
use autoscale_sim_kube::{
    NodeSelectorTerm, PodAffinityTerm, PreferredNodeTerm, Taint, Toleration,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use autoscale_sim_kube::{string_value, whole_number};
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
        deserializer.deserialize_str(Visitor)
    }
}

/// The start of the parser message for a label, annotation or nodeSelector value written as a
/// YAML boolean or number.
pub(crate) const NOT_A_STRING: &str = "label, annotation and nodeSelector values are strings";

/// The start of the parser message for a disruption budget's `nodes` written as a YAML number.
pub(crate) const BUDGET_NODES_NOT_A_STRING: &str =
    "a disruption budget's nodes is a string, such as \"10%\" or \"5\"";

/// A label, annotation or nodeSelector value. Kubernetes declares these maps
/// `map[string]string`, so its API rejects a value that YAML reads as a boolean or a number,
/// such as `true`, `yes` or `1`, until it is quoted. A null or empty value (`key:`) is an empty
/// string.
struct StringValue(String);

impl<'de> Deserialize<'de> for StringValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_value::deserialize(deserializer, NOT_A_STRING).map(StringValue)
    }
}

/// A disruption budget's `nodes`: a count or a percentage, which Karpenter's v1 NodePool CRD
/// declares as a string (pattern `^((100|[0-9]{1,2})%|[0-9]+)$`, `pkg/apis/v1/nodepool.go` at
/// v1.14.1), so that `nodes: 5` needs quotes.
#[derive(Debug)]
pub struct BudgetNodesText(pub String);

impl<'de> Deserialize<'de> for BudgetNodesText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_value::deserialize(deserializer, BUDGET_NODES_NOT_A_STRING).map(BudgetNodesText)
    }
}

/// A label or nodeSelector value: a string as for [`StringValue`], not null, and valid by
/// Kubernetes' label syntax ([`autoscale_sim_kube::label::value_error`]).
struct LabelValue(String);

impl<'de> Deserialize<'de> for LabelValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_value::label_value(deserializer, NOT_A_STRING).map(LabelValue)
    }
}

/// Reads a map of labels or nodeSelector entries, whose keys and values must be valid label
/// keys and values ([`LabelKey`], [`LabelValue`]).
fn label_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<LabelKey, LabelValue>::deserialize(deserializer)?;
    Ok(map
        .into_iter()
        .map(|(key, value)| (key.0, value.0))
        .collect())
}

/// Reads a label key with its position, rejecting one that breaks Kubernetes' label syntax.
fn spanned_label_key<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Spanned<String>, D::Error> {
    let key = Spanned::<LabelKey>::deserialize(deserializer)?;
    Ok(Spanned::new(key.value.0, key.referenced, key.defined))
}

/// Reads a map of annotations whose values must be strings ([`StringValue`]), with the position
/// of each value.
fn spanned_string_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Spanned<String>>, D::Error> {
    let map = BTreeMap::<String, Spanned<StringValue>>::deserialize(deserializer)?;
    Ok(map
        .into_iter()
        .map(|(key, value)| {
            let text = Spanned::new(value.value.0, value.referenced, value.defined);
            (key, text)
        })
        .collect())
}

/// The whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenarioFile {
    /// Scenario name, shown in the output.
    pub name: String,
    /// Free text shown at the top of `report.html`.
    #[serde(default)]
    pub description: Option<String>,
    /// Seed of every random stream.
    pub seed: u64,
    /// Wall clock of t = 0, as `YYYY-MM-DDTHH:MM:SSZ` in UTC; default 2026-01-05T00:00:00Z.
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    /// Simulated time span, a duration such as `7d`.
    pub duration: Spanned<String>,
    /// Interval of the time-series rows and plots, a duration; default `1m`.
    #[serde(default)]
    pub sample_interval: Option<Spanned<String>>,
    /// EC2 settings.
    #[serde(default)]
    pub cloud: CloudSpec,
    /// kube-scheduler settings.
    #[serde(default)]
    pub scheduler: SchedulerSpec,
    /// Load series by name.
    #[serde(default)]
    pub loads: BTreeMap<String, LoadSpec>,
    /// Deployments, DaemonSets, Jobs and PodDisruptionBudgets.
    pub workloads: Vec<WorkloadSpec>,
    /// The autoscaler policies to compare.
    pub policies: Vec<PolicyEntry>,
    /// Times at which the fleet is recorded.
    #[serde(default)]
    pub snapshots: Vec<SnapshotSpec>,
}

/// `cloud`: the EC2 region, zones, catalog, latency and spot market.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudSpec {
    /// Region; must be `us-east-1` with the built-in catalog.
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// Availability zones, in order; default us-east-1a, b and c.
    #[serde(default)]
    pub zones: Option<Vec<String>>,
    /// `builtin`, or a catalog CSV path relative to the scenario file.
    #[serde(default)]
    pub catalog: Option<Spanned<String>>,
    /// Time from a launch request until the node is Ready, split over the launch phases in
    /// fixed proportions; not together with `launchPhases`.
    #[serde(default)]
    pub launch_latency: Option<LatencySpec>,
    /// Latency of each launch phase: request to running, running to registered, registered to
    /// Ready.
    #[serde(default)]
    pub launch_phases: Option<LaunchPhasesYaml>,
    /// Minimum time from a deletion decision until billing stops; default `5s`.
    #[serde(default)]
    pub termination_delay: Option<Spanned<String>>,
    /// The spot market model.
    #[serde(default)]
    pub spot: Option<SpotYaml>,
    /// Windows of insufficient capacity.
    #[serde(default)]
    pub capacity_shortages: Vec<ShortageYaml>,
    /// Random processes of insufficient capacity, per pool.
    #[serde(default)]
    pub random_shortages: Vec<RandomShortageYaml>,
}

/// `cloud.launchPhases`: each phase's latency, measured from the end of the phase before.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchPhasesYaml {
    /// From the launch request until the instance is `running`.
    #[serde(default)]
    pub running: Option<LatencySpec>,
    /// From `running` until kubelet registers the node.
    #[serde(default)]
    pub registered: Option<LatencySpec>,
    /// From registration until the node is Ready.
    #[serde(default)]
    pub ready: Option<LatencySpec>,
}

/// One entry of `cloud.randomShortages`: spells of insufficient capacity arriving at random.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RandomShortageYaml {
    /// Instance type short of capacity; every type when absent.
    #[serde(default)]
    pub instance_type: Option<Spanned<String>>,
    /// Zone short of capacity; every zone when absent.
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    /// `spot` or `on-demand`.
    pub capacity_type: Spanned<String>,
    /// Mean time between the starts of two spells in one pool, a duration.
    pub mean_time_between: Spanned<String>,
    /// Length of a spell.
    pub duration: LatencySpec,
}

/// `cloud.spot.rebalanceRecommendations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RebalanceYaml {
    /// Time from the recommendation to the interruption notice, a duration.
    pub lead_time: Spanned<String>,
}

/// `cloud.spot`: the spot market model.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpotYaml {
    /// Starting discount from on-demand per instance category, as a share.
    #[serde(default)]
    pub discount: BTreeMap<String, Spanned<f64>>,
    /// Discount of categories not listed, as a share; default 0.6.
    #[serde(default)]
    pub default_discount: Option<Spanned<f64>>,
    /// Largest relative price change per step of the random walk; default 0.03.
    #[serde(default)]
    pub volatility: Option<Spanned<f64>>,
    /// Time between price changes, a duration; default `6h`.
    #[serde(default)]
    pub price_change_interval: Option<Spanned<String>>,
    /// Spot Instance Advisor band per instance family, such as `"5-10%"`.
    #[serde(default)]
    pub interruption_bands: BTreeMap<String, Spanned<String>>,
    /// Band of families not listed; default `"<5%"`.
    #[serde(default)]
    pub default_interruption_band: Option<Spanned<String>>,
    /// Interruptions per instance and 30 days per family, overriding the band.
    #[serde(default)]
    pub interruptions_per_month: BTreeMap<String, Spanned<f64>>,
    /// Recorded spot prices: the JSON `aws ec2 describe-spot-price-history` prints, or a CSV
    /// file `timestamp,instance_type,zone,spot_usd_per_hour`.
    #[serde(default)]
    pub price_history: Option<Spanned<String>>,
    /// Time from an interruption notice until termination, a duration; default `2m`.
    #[serde(default)]
    pub notice: Option<Spanned<String>>,
    /// Rebalance recommendations ahead of interruptions; none when absent.
    #[serde(default)]
    pub rebalance_recommendations: Option<RebalanceYaml>,
}

/// One entry of `cloud.capacityShortages`: a window of insufficient capacity.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShortageYaml {
    /// Instance type short of capacity; every type when absent.
    #[serde(default)]
    pub instance_type: Option<Spanned<String>>,
    /// Zone short of capacity; every zone when absent.
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    /// `spot` or `on-demand`.
    pub capacity_type: Spanned<String>,
    /// Start of the window, a duration from t = 0.
    pub from: Spanned<String>,
    /// End of the window, a duration from t = 0.
    pub to: Spanned<String>,
}

/// A latency distribution: `cloud.launchLatency`, a launch phase, a Job's `duration` or a
/// random shortage's `duration`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LatencySpec {
    /// `fixed`, `normal`, `logNormal` or `empirical`.
    pub distribution: Spanned<String>,
    /// Mean, a duration; required except for `empirical`.
    #[serde(default)]
    pub mean: Option<Spanned<String>>,
    /// For `empirical`: a CSV file with the header `seconds` and one value per row, relative to
    /// the scenario file.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    /// Standard deviation of the values themselves, a duration; default 0.
    #[serde(default)]
    pub stddev: Option<Spanned<String>>,
    /// Lowest value returned, a duration; default 0.
    #[serde(default)]
    pub min: Option<Spanned<String>>,
}

/// `scheduler`: the kube-scheduler stand-in.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulerSpec {
    /// `LeastAllocated` (the default) or `MostAllocated`.
    #[serde(default)]
    pub scoring_strategy: Option<Spanned<String>>,
}

/// One load series: exactly one of `diurnal` and `trace`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadSpec {
    /// A generated daily cycle.
    #[serde(default)]
    pub diurnal: Option<DiurnalSpec>,
    /// A CSV trace file.
    #[serde(default)]
    pub trace: Option<TraceSpec>,
}

/// A generated daily cycle, with the position of each field for error messages; the fields
/// and defaults are those of [`autoscale_sim_workload::DiurnalLoad`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiurnalSpec {
    /// Load at the trough hour.
    pub base: Spanned<f64>,
    /// Load at the peak hour.
    pub peak: Spanned<f64>,
    /// Hour of the peak.
    #[serde(default)]
    pub peak_hour: Option<Spanned<f64>>,
    /// Hour of the trough.
    #[serde(default)]
    pub trough_hour: Option<Spanned<f64>>,
    /// Multiplier on Saturday and Sunday.
    #[serde(default)]
    pub weekend_factor: Option<Spanned<f64>>,
    /// Relative standard deviation of the noise.
    #[serde(default)]
    pub noise: Option<Spanned<f64>>,
    /// Interval of the generated values.
    #[serde(default)]
    pub step: Option<Spanned<String>>,
}

/// A load read from a CSV file with the header `timestamp_seconds,value`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceSpec {
    /// Path relative to the scenario file.
    pub file: Spanned<String>,
    /// Factor applied to every value; default 1.
    #[serde(default)]
    pub value_scale: Option<Spanned<f64>>,
    /// `loop` (the default), `hold` or `error`: what happens after the last row.
    #[serde(default)]
    pub end: Option<Spanned<String>>,
    /// Rotation of the trace, a duration that is a whole number of its steps.
    #[serde(default)]
    pub shift: Option<Spanned<String>>,
}

/// Kubernetes object metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// Object name.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Namespace of the workload's pods; `default` when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, deserialize_with = "label_map")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, deserialize_with = "spanned_string_map")]
    pub annotations: BTreeMap<String, Spanned<String>>,
}

/// One entry of `workloads`, whose `kind` decides which other fields apply.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSpec {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `PodDisruptionBudget`, `PriorityClass`
    /// or `LimitRange`.
    pub kind: Spanned<String>,
    /// The manifest's `apiVersion`, such as `scheduling.k8s.io/v1`; accepted and ignored, so
    /// that pasted objects load.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Name and namespace.
    #[serde(default)]
    pub metadata: Metadata,
    /// `OrderedReady` (default) or `Parallel`: how a StatefulSet creates and removes its pods.
    #[serde(default)]
    pub pod_management_policy: Option<Spanned<String>>,
    /// Fixed replica count of a Deployment or StatefulSet; default 1 without `hpa`.
    #[serde(default, deserialize_with = "crate::whole_number::optional_integer")]
    pub replicas: Option<Spanned<u32>>,
    /// Horizontal pod autoscaler of a Deployment.
    #[serde(default)]
    pub hpa: Option<HpaYaml>,
    /// Time from binding until a pod runs, a duration; default `5s`.
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
    /// Priority of a PriorityClass's pods.
    #[serde(default, deserialize_with = "crate::whole_number::optional_integer")]
    pub value: Option<Spanned<i64>>,
    /// Whether a PriorityClass applies to pods that name no class.
    #[serde(default)]
    pub global_default: Option<bool>,
    /// `PreemptLowerPriority` (default) or `Never`, of a PriorityClass.
    #[serde(default)]
    pub preemption_policy: Option<Spanned<String>>,
    /// Accepted and ignored.
    #[serde(default)]
    pub description: Option<String>,
}

/// The `spec` of a PodDisruptionBudget (`selector`, `minAvailable`, `maxUnavailable`) or of a
/// LimitRange (`limits`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdbSpecYaml {
    /// A LimitRange's items.
    #[serde(default)]
    pub limits: Vec<LimitRangeItemYaml>,
    /// Pods covered; empty covers every pod of the namespace.
    #[serde(default)]
    pub selector: autoscale_sim_kube::LabelSelector,
    /// Pods that must stay available: a count or a percentage.
    #[serde(default)]
    pub min_available: Option<Spanned<Scalar>>,
    /// Pods that may be unavailable: a count or a percentage.
    #[serde(default)]
    pub max_unavailable: Option<Spanned<Scalar>>,
}

/// One item of a LimitRange's `spec.limits`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitRangeItemYaml {
    /// `Container`, `Pod` or `PersistentVolumeClaim`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Limits given to a container that sets none.
    #[serde(default)]
    pub default: BTreeMap<String, Spanned<Scalar>>,
    /// Requests given to a container that sets none.
    #[serde(default)]
    pub default_request: BTreeMap<String, Spanned<Scalar>>,
    /// Highest limit a container may have.
    #[serde(default)]
    pub max: BTreeMap<String, Spanned<Scalar>>,
    /// Lowest request a container may have.
    #[serde(default)]
    pub min: BTreeMap<String, Spanned<Scalar>>,
    /// Highest ratio of limit to request.
    #[serde(default)]
    pub max_limit_request_ratio: BTreeMap<String, Spanned<Scalar>>,
}

/// Arrivals of a Job stream: a Poisson process whose rate follows a load.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArrivalsYaml {
    /// Name of the load.
    pub load: Spanned<String>,
    /// Jobs per hour for each unit of the load.
    pub per_hour_per_unit: Spanned<f64>,
}

/// `hpa` of a Deployment: a HorizontalPodAutoscaler on the load per replica.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaYaml {
    /// Name of the load it follows.
    pub load: Spanned<String>,
    /// Load one replica should carry, in the load's unit.
    pub target_per_replica: Spanned<f64>,
    /// Lowest replica count.
    #[serde(deserialize_with = "crate::whole_number::integer")]
    pub min_replicas: Spanned<u32>,
    /// Highest replica count.
    #[serde(deserialize_with = "crate::whole_number::integer")]
    pub max_replicas: Spanned<u32>,
    /// Time between syncs, a duration; default `15s`.
    #[serde(default)]
    pub sync_period: Option<Spanned<String>>,
    /// Relative deviation within which the count stays; default 0.1.
    #[serde(default)]
    pub tolerance: Option<Spanned<f64>>,
    /// Scale-down stabilization window, a duration; default `5m`. A short form of
    /// `behavior.scaleDown.stabilizationWindowSeconds`.
    #[serde(default)]
    pub scale_down_stabilization: Option<Spanned<String>>,
    /// Scaling behavior, as an autoscaling/v2 HorizontalPodAutoscaler's `spec.behavior`.
    #[serde(default)]
    pub behavior: Option<HpaBehaviorYaml>,
}

/// `hpa.behavior`: the rules of each direction (autoscaling/v2 `HorizontalPodAutoscalerBehavior`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaBehaviorYaml {
    /// Rules for scaling up; fields left out keep their defaults.
    #[serde(default)]
    pub scale_up: Option<Spanned<HpaScalingRulesYaml>>,
    /// Rules for scaling down; fields left out keep their defaults.
    #[serde(default)]
    pub scale_down: Option<Spanned<HpaScalingRulesYaml>>,
}

/// `scaleUp` or `scaleDown` of an HPA's behavior (autoscaling/v2 `HPAScalingRules`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaScalingRulesYaml {
    /// Stabilization window in whole seconds, 0 to 3600.
    #[serde(default, deserialize_with = "crate::whole_number::optional_seconds")]
    pub stabilization_window_seconds: Option<Spanned<i64>>,
    /// `Max`, `Min` or `Disabled`.
    #[serde(default)]
    pub select_policy: Option<Spanned<String>>,
    /// Rate limits; when given, they replace the defaults.
    #[serde(default)]
    pub policies: Option<Vec<Spanned<HpaScalingPolicyYaml>>>,
    /// Tolerance of this direction, in place of `hpa.tolerance`: a number such as 0.05, or a
    /// Kubernetes quantity such as "50m".
    #[serde(default)]
    pub tolerance: Option<Spanned<Scalar>>,
}

/// One rate limit of an HPA's behavior (autoscaling/v2 `HPAScalingPolicy`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaScalingPolicyYaml {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Pods, or percent of the count at the start of the period; at least 1.
    #[serde(deserialize_with = "crate::whole_number::integer")]
    pub value: Spanned<i64>,
    /// Length of the period in whole seconds, 1 to 1800.
    #[serde(deserialize_with = "crate::whole_number::seconds")]
    pub period_seconds: Spanned<i64>,
}

/// A Kubernetes pod template.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTemplate {
    /// Pod labels and annotations.
    #[serde(default)]
    pub metadata: Metadata,
    /// The pod spec.
    pub spec: PodSpecYaml,
}

/// A Kubernetes pod spec; the fields that do not affect scheduling are accepted and ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSpecYaml {
    /// Containers; their requests are summed.
    pub containers: Vec<Container>,
    /// Init containers, run one after the other before the containers; those with
    /// `restartPolicy: Always` are sidecars that keep running beside them.
    #[serde(default)]
    pub init_containers: Vec<Container>,
    /// Resources the pod's runtime uses beyond its containers (set from a RuntimeClass).
    #[serde(default)]
    pub overhead: BTreeMap<String, Spanned<Scalar>>,
    /// Node labels the node must carry.
    #[serde(default, deserialize_with = "label_map")]
    pub node_selector: BTreeMap<String, String>,
    /// Node affinity and inter-pod (anti-)affinity.
    #[serde(default)]
    pub affinity: Option<AffinityYaml>,
    /// Topology spread constraints.
    #[serde(default)]
    pub topology_spread_constraints: Vec<Spanned<TopologySpreadConstraint>>,
    /// Volumes; `emptyDir` on disk and `hostPath` count as local storage.
    #[serde(default)]
    pub volumes: Vec<VolumeYaml>,
    /// Accepted and ignored.
    #[serde(default)]
    pub service_account_name: Option<String>,
    /// Accepted and ignored.
    #[serde(default)]
    pub security_context: Option<IgnoredAny>,
    /// Tolerations of node taints.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// Pod priority; default 0, or the value of `priorityClassName` or of the global default
    /// PriorityClass, which it must then equal.
    #[serde(default, deserialize_with = "whole_number::optional_integer")]
    pub priority: Option<i32>,
    /// Name of a PriorityClass: a `PriorityClass` workload, `system-cluster-critical` or
    /// `system-node-critical`.
    #[serde(default)]
    pub priority_class_name: Option<Spanned<String>>,
    /// `PreemptLowerPriority` (default) or `Never`; with a PriorityClass, the class's policy,
    /// which it must then equal.
    #[serde(default)]
    pub preemption_policy: Option<String>,
    /// Termination grace period in seconds; default 30.
    #[serde(default, deserialize_with = "whole_number::optional_integer")]
    pub termination_grace_period_seconds: Option<u64>,
}

/// A container; only its resource requests and host ports matter.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    /// Accepted and ignored.
    #[serde(default)]
    pub name: Option<String>,
    /// Accepted and ignored.
    #[serde(default)]
    pub image: Option<String>,
    /// Requests and limits.
    #[serde(default)]
    pub resources: ContainerResources,
    /// `Always` makes an init container a sidecar; not allowed on other containers.
    #[serde(default)]
    pub restart_policy: Option<Spanned<String>>,
    /// Ports; a `hostPort` must be free on the node.
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
    /// Accepted and ignored.
    #[serde(default)]
    pub command: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub args: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub env: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub volume_mounts: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub readiness_probe: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub liveness_probe: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub image_pull_policy: Option<String>,
}

/// A container port.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerPort {
    /// Accepted and ignored.
    #[serde(default)]
    pub name: Option<String>,
    /// Port in the container.
    #[serde(deserialize_with = "whole_number::integer")]
    pub container_port: u16,
    /// Port on the node, which no other pod on it may use.
    #[serde(default, deserialize_with = "whole_number::optional_integer")]
    pub host_port: Option<u16>,
    /// Accepted and ignored.
    #[serde(default)]
    pub protocol: Option<String>,
}

/// `affinity` of a pod spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AffinityYaml {
    /// Node affinity.
    #[serde(default)]
    pub node_affinity: Option<NodeAffinityYaml>,
    /// Inter-pod affinity.
    #[serde(default)]
    pub pod_affinity: Option<PodAffinityYaml>,
    /// Inter-pod anti-affinity.
    #[serde(default)]
    pub pod_anti_affinity: Option<PodAffinityYaml>,
}

/// Node affinity.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeAffinityYaml {
    /// Terms of which at least one must hold.
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelectorYaml>,
    /// Weighted preferred terms.
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredNodeTerm>,
}

/// A node selector.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorYaml {
    /// Terms of which at least one must hold.
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

/// Inter-pod affinity or anti-affinity.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinityYaml {
    /// Required terms.
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    /// Weighted preferred terms.
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

/// A pod volume; only whether it is local storage matters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeYaml {
    /// Volume name.
    pub name: String,
    /// An `emptyDir`; local storage unless its medium is `Memory`.
    #[serde(default)]
    pub empty_dir: Option<EmptyDirYaml>,
    /// A `hostPath`: local storage.
    #[serde(default)]
    pub host_path: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub config_map: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub secret: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub projected: Option<IgnoredAny>,
    /// Accepted and ignored.
    #[serde(default)]
    pub persistent_volume_claim: Option<IgnoredAny>,
}

/// An `emptyDir` volume.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmptyDirYaml {
    /// `Memory` for a tmpfs, which is not local storage.
    #[serde(default)]
    pub medium: Option<String>,
    /// Accepted and ignored.
    #[serde(default)]
    pub size_limit: Option<Scalar>,
}

/// Container resources.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerResources {
    /// Requests: `cpu` and `memory` quantities and whole numbers of extended resources such as
    /// `nvidia.com/gpu`; `ephemeral-storage` is ignored.
    #[serde(default)]
    pub requests: BTreeMap<String, Spanned<Scalar>>,
    /// Limits: they set the request of a resource that has none, and an extended resource must
    /// have one equal to its request.
    #[serde(default)]
    pub limits: BTreeMap<String, Spanned<Scalar>>,
}

/// One entry of `policies`: a name and exactly one of the three settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyEntry {
    /// Policy name, unique in the file.
    pub name: Spanned<String>,
    /// Cluster Autoscaler settings.
    #[serde(default)]
    pub cluster_autoscaler: Option<ClusterAutoscalerYaml>,
    /// Karpenter settings.
    #[serde(default)]
    pub karpenter: Option<KarpenterYaml>,
    /// Static fleet settings (`static`).
    #[serde(default, rename = "static")]
    pub static_fleet: Option<StaticYaml>,
}

/// `clusterAutoscaler` settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterAutoscalerYaml {
    /// Cluster Autoscaler command-line flags, such as `--scan-interval=10s`.
    #[serde(default)]
    pub flags: Vec<Spanned<String>>,
    /// Node groups, one EC2 Auto Scaling group each.
    pub node_groups: Vec<NodeGroupYaml>,
    /// The priority expander's ConfigMap, `cluster-autoscaler-priority-expander`, as a manifest.
    #[serde(default)]
    pub priority_config_map: Option<ConfigMapManifest>,
}

/// A `v1` ConfigMap manifest.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapManifest {
    /// `v1`.
    #[serde(default)]
    pub api_version: Option<Spanned<String>>,
    /// `ConfigMap`.
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
    /// Name and namespace.
    pub metadata: Metadata,
    /// Keys and their text values.
    #[serde(default)]
    pub data: BTreeMap<String, Spanned<String>>,
}

/// A Cluster Autoscaler node group: an Auto Scaling group.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeGroupYaml {
    /// Group name.
    pub name: Spanned<String>,
    /// Instance type of every node; with `mixedInstancesPolicy`, the first override is the
    /// template's type and this may be left out.
    #[serde(default)]
    pub instance_type: Option<Spanned<String>>,
    /// Minimum size.
    pub min_size: Spanned<u32>,
    /// Maximum size.
    pub max_size: Spanned<u32>,
    /// Zone of the nodes; the first of `cloud.zones` when absent and `zones` is absent too.
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    /// Availability zones of an Auto Scaling group that spans several; the template carries the
    /// first.
    #[serde(default)]
    pub zones: Vec<Spanned<String>>,
    /// The Auto Scaling group's `MixedInstancesPolicy`.
    #[serde(default)]
    pub mixed_instances_policy: Option<MixedInstancesPolicyYaml>,
    /// `on-demand` (the default) or `spot`.
    #[serde(default)]
    pub capacity_type: Option<Spanned<String>>,
    /// Node labels besides the instance type's.
    #[serde(default, deserialize_with = "label_map")]
    pub labels: BTreeMap<String, String>,
    /// Node taints.
    #[serde(default)]
    pub taints: Vec<Taint>,
}

/// An Auto Scaling group's `MixedInstancesPolicy`, with the API's field names in camelCase.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MixedInstancesPolicyYaml {
    /// The launch template and its overrides.
    pub launch_template: LaunchTemplateYaml,
    /// `InstancesDistribution`.
    #[serde(default)]
    pub instances_distribution: Option<InstancesDistributionYaml>,
}

/// `LaunchTemplate` of a mixed-instances policy.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchTemplateYaml {
    /// Accepted and ignored.
    #[serde(default)]
    pub launch_template_specification: Option<IgnoredAny>,
    /// `Overrides`: the instance types, in priority order.
    pub overrides: Vec<LaunchTemplateOverrideYaml>,
}

/// One launch template override.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchTemplateOverrideYaml {
    /// `InstanceType`.
    pub instance_type: Spanned<String>,
}

/// `InstancesDistribution` of a mixed-instances policy; absent fields take the API defaults.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstancesDistributionYaml {
    /// `OnDemandBaseCapacity`; default 0.
    #[serde(default)]
    pub on_demand_base_capacity: Option<u32>,
    /// `OnDemandPercentageAboveBaseCapacity`, 0 to 100; default 100.
    #[serde(default)]
    pub on_demand_percentage_above_base_capacity: Option<Spanned<u32>>,
    /// `OnDemandAllocationStrategy`: `prioritized` (default) or `lowest-price`.
    #[serde(default)]
    pub on_demand_allocation_strategy: Option<Spanned<String>>,
    /// `SpotAllocationStrategy`: `lowest-price` (default), `capacity-optimized`,
    /// `capacity-optimized-prioritized` or `price-capacity-optimized`.
    #[serde(default)]
    pub spot_allocation_strategy: Option<Spanned<String>>,
    /// `SpotInstancePools`, 1 to 20; default 2.
    #[serde(default)]
    pub spot_instance_pools: Option<Spanned<u32>>,
    /// `SpotMaxPrice`: accepted and ignored.
    #[serde(default)]
    pub spot_max_price: Option<IgnoredAny>,
}

/// `karpenter` settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KarpenterYaml {
    /// NodePool manifests.
    #[serde(default)]
    pub node_pools: Vec<NodePoolManifest>,
    /// EC2NodeClass manifests, which NodePools name in `nodeClassRef`.
    #[serde(default)]
    pub node_classes: Vec<EC2NodeClassManifest>,
    /// Files of NodePool and EC2NodeClass manifests, several documents each, relative to the
    /// scenario.
    #[serde(default)]
    pub manifests: Vec<Spanned<String>>,
    /// `BATCH_IDLE_DURATION`, a duration; default `1s`.
    #[serde(default)]
    pub batch_idle_duration: Option<Spanned<String>>,
    /// `BATCH_MAX_DURATION`, a duration; default `10s`.
    #[serde(default)]
    pub batch_max_duration: Option<Spanned<String>>,
    /// Karpenter release whose disruption behaviour is modelled: `v1.13` (default) or `v1.14`.
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    /// NodePool changes applied during the run.
    #[serde(default)]
    pub node_pool_updates: Vec<NodePoolUpdateYaml>,
    /// EC2NodeClass changes applied during the run.
    #[serde(default)]
    pub node_class_updates: Vec<NodeClassUpdateYaml>,
    /// `Respect` (default) or `Ignore` (Helm `settings.preferencePolicy`).
    #[serde(default)]
    pub preference_policy: Option<Spanned<String>>,
    /// `Strict` (default) or `BestEffort` (Helm `settings.minValuesPolicy`).
    #[serde(default)]
    pub min_values_policy: Option<Spanned<String>>,
    /// Times at which AWS publishes a new EKS-optimized AMI, which drifts the nodes of every
    /// EC2NodeClass that selects an `@latest` alias.
    #[serde(default)]
    pub ami_releases: Option<AmiReleasesYaml>,
    /// Karpenter's feature gates (Helm `settings.featureGates`).
    #[serde(default)]
    pub feature_gates: Option<FeatureGatesYaml>,
}

/// A schedule of AMI releases: every `every`, from `first` (default: `every`) after the start.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmiReleasesYaml {
    /// Time between releases, a duration.
    pub every: Spanned<String>,
    /// Time of the first release from t = 0, a duration.
    #[serde(default)]
    pub first: Option<Spanned<String>>,
}

/// Karpenter feature gates that change disruption decisions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureGatesYaml {
    /// `SpotToSpotConsolidation`; default false.
    #[serde(default)]
    pub spot_to_spot_consolidation: bool,
}

/// A NodePool manifest applied at a time during the run, replacing the NodePool of its name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePoolUpdateYaml {
    /// Time from t = 0, a duration.
    pub at: Spanned<String>,
    /// The new manifest; its `metadata.name` names a NodePool of `nodePools`.
    pub node_pool: NodePoolManifest,
}

/// An EC2NodeClass manifest applied at a time during the run, replacing the class of its name,
/// as when an operator changes its AMI selector or kubelet settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClassUpdateYaml {
    /// Time from t = 0, a duration.
    pub at: Spanned<String>,
    /// The new manifest; its `metadata.name` names an EC2NodeClass of `nodeClasses` or of a
    /// manifest file.
    pub node_class: EC2NodeClassManifest,
}

/// A `karpenter.sh/v1` NodePool manifest.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePoolManifest {
    /// `karpenter.sh/v1`.
    pub api_version: Spanned<String>,
    /// `NodePool`.
    pub kind: Spanned<String>,
    /// Name.
    pub metadata: Metadata,
    /// The NodePool spec.
    pub spec: NodePoolSpecYaml,
}

/// `spec` of a NodePool.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePoolSpecYaml {
    /// The NodeClaim template.
    pub template: NodeClaimTemplateYaml,
    /// Consolidation and disruption budgets.
    #[serde(default)]
    pub disruption: Option<DisruptionYaml>,
    /// Most `cpu` and `memory` capacity of the NodePool's nodes.
    #[serde(default)]
    pub limits: BTreeMap<String, Spanned<Scalar>>,
    /// Priority among NodePools, 1 to 100; default 0.
    #[serde(default, deserialize_with = "crate::whole_number::optional_integer")]
    pub weight: Option<Spanned<i32>>,
}

/// `spec.template` of a NodePool.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClaimTemplateYaml {
    /// Labels of the nodes.
    #[serde(default)]
    pub metadata: Metadata,
    /// Requirements and taints.
    pub spec: NodeClaimSpecYaml,
}

/// `spec.template.spec` of a NodePool.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClaimSpecYaml {
    /// Requirements on instance type, zone and capacity type labels.
    #[serde(default)]
    pub requirements: Vec<RequirementYaml>,
    /// Taints of the nodes.
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// Accepted with a warning, not modelled.
    #[serde(default)]
    pub startup_taints: Vec<Taint>,
    /// A duration or `Never`; default `720h`.
    #[serde(default)]
    pub expire_after: Option<Spanned<String>>,
    /// How long a node's deletion may wait for evictions before its pods are deleted, such as
    /// `48h`; absent waits for ever.
    #[serde(default)]
    pub termination_grace_period: Option<Spanned<String>>,
    /// Accepted and ignored.
    #[serde(default)]
    pub node_class_ref: Option<NodeClassRef>,
}

/// A `karpenter.k8s.aws/v1` EC2NodeClass manifest. Only `spec.kubelet` is modelled; the other
/// fields are accepted so that a real manifest loads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EC2NodeClassManifest {
    /// `karpenter.k8s.aws/v1`.
    pub api_version: Spanned<String>,
    /// `EC2NodeClass`.
    pub kind: Spanned<String>,
    /// Name, which NodePools refer to.
    pub metadata: Metadata,
    /// The EC2NodeClass spec.
    #[serde(default)]
    pub spec: EC2NodeClassSpecYaml,
    /// Accepted and ignored, as `kubectl get -o yaml` prints it.
    #[serde(default)]
    pub status: Option<IgnoredAny>,
}

/// Fields of an EC2NodeClass spec (karpenter.k8s.aws/v1) that are accepted but do not change
/// node allocatable.
pub const EC2_NODE_CLASS_UNMODELLED: [&str; 14] = [
    "amiFamily",
    "associatePublicIPAddress",
    "blockDeviceMappings",
    "capacityReservationSelectorTerms",
    "context",
    "detailedMonitoring",
    "instanceProfile",
    "instanceStorePolicy",
    "metadataOptions",
    "role",
    "securityGroupSelectorTerms",
    "subnetSelectorTerms",
    "tags",
    "userData",
];

/// Kubelet fields of an EC2NodeClass that are accepted but not modelled.
pub const KUBELET_UNMODELLED: [&str; 8] = [
    "clusterDNS",
    "cpuCFSQuota",
    "evictionMaxPodGracePeriod",
    "evictionSoft",
    "evictionSoftGracePeriod",
    "imageGCHighThresholdPercent",
    "imageGCLowThresholdPercent",
    "podsPerCore",
];

/// `spec` of an EC2NodeClass.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EC2NodeClassSpecYaml {
    /// Kubelet settings; those that set node allocatable are modelled.
    #[serde(default)]
    pub kubelet: Option<KubeletYaml>,
    /// AMI selector terms; an `alias` whose version is `latest` follows AMI releases.
    #[serde(default)]
    pub ami_selector_terms: Vec<AmiSelectorTermYaml>,
    /// The other fields, by name; see [`EC2_NODE_CLASS_UNMODELLED`].
    #[serde(flatten)]
    pub other: BTreeMap<String, IgnoredAny>,
}

/// One term of an EC2NodeClass's `amiSelectorTerms`. Only `alias` is read.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmiSelectorTermYaml {
    /// `family@version`, such as `al2023@latest` or `al2023@v20240807`.
    #[serde(default)]
    pub alias: Option<Spanned<String>>,
    /// `id`, `name`, `owner`, `tags` and `ssmParameter`, accepted and not read.
    #[serde(flatten)]
    pub other: BTreeMap<String, IgnoredAny>,
}

/// `spec.kubelet` of an EC2NodeClass.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletYaml {
    /// Pod slots per node.
    #[serde(default, deserialize_with = "crate::whole_number::optional_integer")]
    pub max_pods: Option<Spanned<i64>>,
    /// `cpu` and `memory` reserved for Kubernetes daemons.
    #[serde(default)]
    pub kube_reserved: BTreeMap<String, Spanned<Scalar>>,
    /// `cpu` and `memory` reserved for the operating system.
    #[serde(default)]
    pub system_reserved: BTreeMap<String, Spanned<Scalar>>,
    /// Hard eviction thresholds; `memory.available` is modelled.
    #[serde(default)]
    pub eviction_hard: BTreeMap<String, Spanned<Scalar>>,
    /// The other fields, by name; see [`KUBELET_UNMODELLED`].
    #[serde(flatten)]
    pub other: BTreeMap<String, IgnoredAny>,
}

/// `nodeClassRef` of a NodePool: the EC2NodeClass whose kubelet settings its nodes get.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeClassRef {
    /// API group.
    #[serde(default)]
    pub group: Option<String>,
    /// Kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A NodePool requirement.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequirementYaml {
    /// Label key.
    #[serde(deserialize_with = "spanned_label_key")]
    pub key: Spanned<String>,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: Spanned<String>,
    /// Values, each a string as in Karpenter's CRD, such as `["4"]`.
    #[serde(default, deserialize_with = "string_value::requirement_label_values")]
    pub values: Vec<String>,
    /// Distinct values of the key a NodeClaim's instance types must keep, 1 to 50.
    #[serde(default, deserialize_with = "crate::whole_number::optional_integer")]
    pub min_values: Option<Spanned<i64>>,
}

/// `spec.disruption` of a NodePool.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisruptionYaml {
    /// `WhenEmpty`, `WhenEmptyOrUnderutilized` (the default) or, with version v1.14,
    /// `Balanced`.
    #[serde(default)]
    pub consolidation_policy: Option<Spanned<String>>,
    /// A duration or `Never`; default `0s`.
    #[serde(default)]
    pub consolidate_after: Option<Spanned<String>>,
    /// Disruption budgets; default one of `nodes: 10%`.
    #[serde(default)]
    pub budgets: Option<Vec<BudgetYaml>>,
}

/// A disruption budget.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetYaml {
    /// Nodes that may be disrupted at once: a count or a percentage, as a string.
    pub nodes: Spanned<BudgetNodesText>,
    /// Disruption reasons the budget applies to (`Underutilized`, `Empty`, `Drifted`); all
    /// when left out.
    #[serde(default)]
    pub reasons: Option<Vec<Spanned<String>>>,
    /// Cron schedule (UTC) at which the budget becomes active.
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    /// How long the budget stays active after each time the schedule fires: hours and
    /// minutes, such as `8h` or `1h30m`.
    #[serde(default)]
    pub duration: Option<Spanned<String>>,
}

/// `static` settings: a fixed fleet.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaticYaml {
    /// Instance type of every node.
    pub instance_type: Spanned<String>,
    /// Number of nodes.
    pub count: Spanned<u32>,
}

/// One entry of `snapshots`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotSpec {
    /// Label in the output.
    pub label: String,
    /// Time from t = 0, a duration.
    pub at: Spanned<String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{Overrides, ScenarioError, load_str};

    /// Builds a static scenario whose Deployment's pod template has the metadata and node
    /// selector entries `metadata` and `node_selector` (flow-mapping entries).
    fn scenario(metadata: &str, node_selector: &str) -> String {
        format!(
            "name: strings\nseed: 1\nduration: 1h\nworkloads:\n  - kind: Deployment\n    metadata: {{name: web}}\n    replicas: 1\n    template:\n      metadata: {{{metadata}}}\n      spec:\n        nodeSelector: {{{node_selector}}}\n        containers: [{{resources: {{requests: {{cpu: 100m}}}}}}]\npolicies:\n  - {{name: fixed, static: {{instanceType: m5.large, count: 1}}}}\n"
        )
    }

    /// Checks that `error` names `field` and `value`, has `message` and suggests quoting.
    fn assert_quote_error(error: &ScenarioError, field: &str, value: &str, message: &str) {
        assert_eq!(error.field.as_deref(), Some(field), "{error}");
        assert_eq!(error.value.as_deref(), Some(value), "{error}");
        assert_eq!(error.message, message, "{error}");
        assert_eq!(error.fix, Some(format!("quote it: \"{value}\"")), "{error}");
        assert!(error.line.is_some(), "{error}");
    }

    fn error(yaml: &str) -> ScenarioError {
        match load_str(yaml, Path::new("strings.yaml"), &Overrides::default()) {
            Ok(_) => panic!("the scenario loads, but it should be rejected:\n{yaml}"),
            Err(e) => e,
        }
    }

    #[test]
    fn unquoted_values_rejected() {
        // (metadata, nodeSelector, field, value, what YAML reads)
        let cases = [
            (
                "annotations: {karpenter.sh/do-not-disrupt: true}",
                "",
                "workloads[0].template.metadata.annotations.karpenter.sh/do-not-disrupt",
                "true",
                "a boolean",
            ),
            (
                "labels: {tier: 1}",
                "",
                "workloads[0].template.metadata.labels.tier",
                "1",
                "a number",
            ),
            (
                "",
                "example.com/gpu: yes",
                "workloads[0].template.spec.nodeSelector.example.com/gpu",
                "yes",
                "a boolean",
            ),
            (
                "",
                "example.com/ratio: 1.5",
                "workloads[0].template.spec.nodeSelector.example.com/ratio",
                "1.5",
                "a number",
            ),
        ];
        for (metadata, node_selector, field, value, found) in cases {
            let error = error(&scenario(metadata, node_selector));

            let message = format!(
                "label, annotation and nodeSelector values are strings, but YAML reads this one as {found}"
            );
            assert_quote_error(&error, field, value, &message);
        }
    }

    #[test]
    fn quoted_values_load() {
        let yaml = scenario(
            "labels: {tier: \"1\"}, annotations: {karpenter.sh/do-not-disrupt: \"true\", empty: }",
            "example.com/gpu: \"yes\"",
        );

        let scenario = load_str(&yaml, Path::new("strings.yaml"), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));

        let spec = &scenario.config.deployments[0].spec;
        assert_eq!(spec.labels["tier"], "1");
        assert_eq!(spec.node_selector["example.com/gpu"], "yes");
    }

    /// Builds a scenario with a PodDisruptionBudget selecting `pdb_selector`, a Deployment whose
    /// pod spec contains `pod_spec` (block lines indented by eight spaces), and a Karpenter
    /// NodePool with the requirement `requirement` and the disruption budget `budget` (flow
    /// mappings).
    fn selector_scenario(
        pdb_selector: &str,
        pod_spec: &str,
        requirement: &str,
        budget: &str,
    ) -> String {
        format!(
            "name: selectors
seed: 1
duration: 1h
workloads:
  - kind: Deployment
    metadata: {{name: web}}
    replicas: 2
    template:
      metadata: {{labels: {{app: web, tier: \"1\"}}}}
      spec:
{pod_spec}
        containers: [{{resources: {{requests: {{cpu: 100m}}}}}}]
  - kind: PodDisruptionBudget
    metadata: {{name: web}}
    spec:
      selector: {pdb_selector}
      maxUnavailable: 1
policies:
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {{name: default}}
          spec:
            template:
              spec:
                requirements:
                  - {requirement}
            disruption:
              budgets:
                - {budget}
"
        )
    }

    const PDB_SELECTOR: &str = "{matchLabels: {app: web}}";
    const POD_SPEC: &str = "        nodeSelector: {kubernetes.io/os: linux}";
    const REQUIREMENT: &str =
        "{key: karpenter.k8s.aws/instance-generation, operator: Gt, values: [\"4\"]}";
    const BUDGET: &str = "{nodes: \"10%\"}";

    #[test]
    fn unquoted_selector_values_rejected() {
        let affinity = |kind: &str, selector: &str| {
            format!(
                "        affinity:\n          {kind}:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              - topologyKey: kubernetes.io/hostname\n                labelSelector: {selector}"
            )
        };
        let node_affinity = "        affinity:\n          nodeAffinity:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              nodeSelectorTerms:\n                - matchExpressions:\n                    - key: example.com/generation\n                      operator: In\n                      values:\n                        - \"5\"\n                        - 6";
        let spread = "        topologySpreadConstraints:\n          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {tier: 1}}}";
        let pod_affinity = affinity("podAffinity", "{matchLabels: {canary: true}}");
        let anti_affinity = affinity(
            "podAntiAffinity",
            "{matchExpressions: [{key: tier, operator: NotIn, values: [2, \"3\"]}]}",
        );
        let workload = "workloads[0].template.spec";
        let pool = "policies[0].karpenter.nodePools[0].spec";
        // (PDB selector, pod spec, requirement, budget, field, value, what YAML reads)
        let cases = [
            (
                "{matchLabels: {app: web, tier: 1}}",
                POD_SPEC,
                REQUIREMENT,
                BUDGET,
                "workloads[1].spec.selector.matchLabels.tier".to_string(),
                "1",
                "a number",
            ),
            (
                "{matchExpressions: [{key: tier, operator: In, values: [\"1\", yes]}]}",
                POD_SPEC,
                REQUIREMENT,
                BUDGET,
                "workloads[1].spec.selector.matchExpressions[0].values[1]".to_string(),
                "yes",
                "a boolean",
            ),
            (
                PDB_SELECTOR,
                spread,
                REQUIREMENT,
                BUDGET,
                format!("{workload}.topologySpreadConstraints[0].labelSelector.matchLabels.tier"),
                "1",
                "a number",
            ),
            (
                PDB_SELECTOR,
                &pod_affinity,
                REQUIREMENT,
                BUDGET,
                format!(
                    "{workload}.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels.canary"
                ),
                "true",
                "a boolean",
            ),
            (
                PDB_SELECTOR,
                &anti_affinity,
                REQUIREMENT,
                BUDGET,
                format!(
                    "{workload}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values[0]"
                ),
                "2",
                "a number",
            ),
            (
                PDB_SELECTOR,
                node_affinity,
                REQUIREMENT,
                BUDGET,
                format!(
                    "{workload}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[1]"
                ),
                "6",
                "a number",
            ),
            (
                PDB_SELECTOR,
                POD_SPEC,
                "{key: karpenter.k8s.aws/instance-generation, operator: Gt, values: [4]}",
                BUDGET,
                format!("{pool}.template.spec.requirements[0].values[0]"),
                "4",
                "a number",
            ),
        ];
        for (pdb_selector, pod_spec, requirement, budget, field, value, found) in cases {
            let error = error(&selector_scenario(
                pdb_selector,
                pod_spec,
                requirement,
                budget,
            ));

            let message = format!(
                "selector and requirement values are strings, but YAML reads this one as {found}"
            );
            assert_quote_error(&error, &field, value, &message);
        }
    }

    #[test]
    fn unquoted_budget_nodes_rejected() {
        for value in ["5", "0"] {
            let budget = format!("{{nodes: {value}}}");
            let yaml = selector_scenario(PDB_SELECTOR, POD_SPEC, REQUIREMENT, &budget);

            let error = error(&yaml);

            assert_quote_error(
                &error,
                "policies[0].karpenter.nodePools[0].spec.disruption.budgets[0].nodes",
                value,
                "a disruption budget's nodes is a string, such as \"10%\" or \"5\", but YAML reads this one as a number",
            );
        }
    }

    #[test]
    fn budget_nodes_not_a_count() {
        for value in ["5.5", "-5"] {
            let budget = format!("{{nodes: {value}}}");
            let yaml = selector_scenario(PDB_SELECTOR, POD_SPEC, REQUIREMENT, &budget);

            let error = error(&yaml);

            assert_eq!(error.value.as_deref(), Some(value));
            assert_eq!(
                error.fix.as_deref(),
                Some("write a count or a percentage in quotes, such as \"2\" or \"10%\"")
            );
        }
    }

    #[test]
    fn quoted_selector_values_load() {
        let pod_spec = "        topologySpreadConstraints:\n          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {tier: \"1\"}}}\n        affinity:\n          podAntiAffinity:\n            requiredDuringSchedulingIgnoredDuringExecution:\n              - topologyKey: kubernetes.io/hostname\n                labelSelector: {matchExpressions: [{key: tier, operator: In, values: [\"1\", \"true\"]}]}";
        let yaml = selector_scenario(
            "{matchLabels: {app: web, tier: \"1\"}}",
            pod_spec,
            REQUIREMENT,
            "{nodes: \"3\"}",
        );

        let scenario = load_str(&yaml, Path::new("strings.yaml"), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));

        let pdb = &scenario.config.pdbs[0];
        assert_eq!(pdb.selector.match_labels["tier"], "1");
        let spec = &scenario.config.deployments[0].spec;
        let spread = &spec.topology_spread[0];
        assert_eq!(spread.label_selector.match_labels["tier"], "1");
        let anti = &spec.pod_anti_affinity.required[0].label_selector;
        assert_eq!(anti.match_expressions[0].values, ["1", "true"]);
    }
}
