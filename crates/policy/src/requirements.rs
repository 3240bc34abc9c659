//! The labels an instance type gives a node, and node requirements (`In`, `NotIn`, `Exists`,
//! `DoesNotExist`, `Gt`, `Lt`) over them, re-exported from the Kubernetes crate.

use std::collections::BTreeMap;

use autoscale_sim_cloud::InstanceType;
use autoscale_sim_kube::{LABEL_ARCH, LABEL_INSTANCE_TYPE, LABEL_OS};
pub use autoscale_sim_kube::{Operator, Requirement, all_match};

/// Label Karpenter puts on every node it launches, with the name of the node's NodePool.
pub const LABEL_NODEPOOL: &str = "karpenter.sh/nodepool";
/// Karpenter's instance-category label.
pub const LABEL_INSTANCE_CATEGORY: &str = "karpenter.k8s.aws/instance-category";
/// Karpenter's instance-family label.
pub const LABEL_INSTANCE_FAMILY: &str = "karpenter.k8s.aws/instance-family";
/// Karpenter's instance-generation label.
pub const LABEL_INSTANCE_GENERATION: &str = "karpenter.k8s.aws/instance-generation";
/// Karpenter's instance-size label.
pub const LABEL_INSTANCE_SIZE: &str = "karpenter.k8s.aws/instance-size";
/// Karpenter's instance-cpu label (vCPUs).
pub const LABEL_INSTANCE_CPU: &str = "karpenter.k8s.aws/instance-cpu";
/// Karpenter's instance-memory label (MiB).
pub const LABEL_INSTANCE_MEMORY: &str = "karpenter.k8s.aws/instance-memory";

/// Karpenter's GPU count label, set on GPU instance types only.
pub const LABEL_INSTANCE_GPU_COUNT: &str = "karpenter.k8s.aws/instance-gpu-count";
/// Karpenter's GPU manufacturer label (`nvidia`, `amd`), set on GPU instance types only.
pub const LABEL_INSTANCE_GPU_MANUFACTURER: &str = "karpenter.k8s.aws/instance-gpu-manufacturer";

/// Karpenter's well-known labels that nodes here do not carry, because the built-in catalog has
/// no data for them (kubernetes-sigs/karpenter and aws/karpenter-provider-aws v1.14.1,
/// `pkg/apis/v1/labels.go`, `WellKnownLabels`). Real instance types carry many of them, so a
/// NodePool requirement on one cannot be evaluated here.
pub const UNMODELLED_WELL_KNOWN_LABELS: [&str; 22] = [
    "topology.kubernetes.io/region",
    "node.kubernetes.io/windows-build",
    "karpenter.k8s.aws/capacity-reservation-id",
    "karpenter.k8s.aws/capacity-reservation-type",
    "karpenter.k8s.aws/capacity-reservation-interruptible",
    "karpenter.k8s.aws/instance-hypervisor",
    "karpenter.k8s.aws/instance-encryption-in-transit-supported",
    "karpenter.k8s.aws/instance-capability-flex",
    "karpenter.k8s.aws/instance-local-nvme",
    "karpenter.k8s.aws/instance-cpu-manufacturer",
    "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz",
    "karpenter.k8s.aws/instance-ebs-bandwidth",
    "karpenter.k8s.aws/instance-network-bandwidth",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-memory",
    "karpenter.k8s.aws/instance-accelerator-name",
    "karpenter.k8s.aws/instance-accelerator-manufacturer",
    "karpenter.k8s.aws/instance-accelerator-count",
    "topology.k8s.aws/zone-id",
    "karpenter.k8s.aws/instance-tenancy",
    "karpenter.k8s.aws/placement-group-id",
    "karpenter.k8s.aws/placement-group-partition",
];

/// Labels that every node Karpenter launches here carries, from its instance type, NodePool,
/// zone and capacity type (the GPU labels on GPU types only).
pub const MODELLED_NODE_LABELS: [&str; 14] = [
    LABEL_NODEPOOL,
    autoscale_sim_kube::LABEL_ZONE,
    LABEL_INSTANCE_TYPE,
    LABEL_ARCH,
    LABEL_OS,
    autoscale_sim_kube::LABEL_CAPACITY_TYPE,
    LABEL_INSTANCE_CATEGORY,
    LABEL_INSTANCE_FAMILY,
    LABEL_INSTANCE_GENERATION,
    LABEL_INSTANCE_SIZE,
    LABEL_INSTANCE_CPU,
    LABEL_INSTANCE_MEMORY,
    LABEL_INSTANCE_GPU_COUNT,
    LABEL_INSTANCE_GPU_MANUFACTURER,
];

/// Returns the labels of a node of `instance_type`, as Karpenter and EKS set them. GPU types
/// also get the GPU count and manufacturer labels (aws/karpenter-provider-aws
/// `pkg/providers/instancetype/types.go`). The GPU name and memory labels are missing because
/// the catalog does not contain them.
pub fn instance_type_labels(instance_type: &InstanceType) -> BTreeMap<String, String> {
    let gpu_labels = (instance_type.gpu_count > 0).then(|| {
        let manufacturer = match instance_type.gpu_resource() {
            autoscale_sim_cloud::ExtendedResource::AmdGpu => "amd",
            autoscale_sim_cloud::ExtendedResource::HabanaGaudi => "habana",
            _ => "nvidia",
        };
        [
            (
                LABEL_INSTANCE_GPU_COUNT,
                instance_type.gpu_count.to_string(),
            ),
            (LABEL_INSTANCE_GPU_MANUFACTURER, manufacturer.to_string()),
        ]
    });
    [
        (LABEL_INSTANCE_TYPE, instance_type.name.clone()),
        (LABEL_ARCH, instance_type.arch.label().to_string()),
        (LABEL_OS, "linux".to_string()),
        (LABEL_INSTANCE_CATEGORY, instance_type.category.clone()),
        (LABEL_INSTANCE_FAMILY, instance_type.family.clone()),
        (
            LABEL_INSTANCE_GENERATION,
            instance_type.generation.to_string(),
        ),
        (LABEL_INSTANCE_SIZE, instance_type.size.clone()),
        (LABEL_INSTANCE_CPU, instance_type.vcpu.to_string()),
        (LABEL_INSTANCE_MEMORY, instance_type.memory_mib.to_string()),
    ]
    .into_iter()
    .chain(gpu_labels.into_iter().flatten())
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use autoscale_sim_cloud::Catalog;

    fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
            min_values: None,
        }
    }

    #[test]
    fn gpu_types_carry_gpu_labels() {
        let catalog = Catalog::builtin();
        let g5 = instance_type_labels(catalog.by_name("g5.12xlarge").unwrap());
        assert_eq!(g5[LABEL_INSTANCE_GPU_COUNT], "4");
        assert_eq!(g5[LABEL_INSTANCE_GPU_MANUFACTURER], "nvidia");
        let g4ad = instance_type_labels(catalog.by_name("g4ad.8xlarge").unwrap());
        assert_eq!(g4ad[LABEL_INSTANCE_GPU_MANUFACTURER], "amd");
        let m5 = instance_type_labels(catalog.by_name("m5.large").unwrap());
        assert!(!m5.contains_key(LABEL_INSTANCE_GPU_COUNT));
        let gpu_only = req(LABEL_INSTANCE_GPU_COUNT, Operator::Gt, &["0"]);
        assert!(gpu_only.matches(&g5));
        assert!(!gpu_only.matches(&m5));
    }

    #[test]
    fn operators_on_instance_labels() {
        let catalog = Catalog::builtin();
        let labels = instance_type_labels(catalog.by_name("c5d.4xlarge").unwrap());
        assert!(req(LABEL_INSTANCE_CATEGORY, Operator::In, &["c", "m"]).matches(&labels));
        assert!(!req(LABEL_INSTANCE_FAMILY, Operator::NotIn, &["c5d"]).matches(&labels));
        assert!(req(LABEL_INSTANCE_GENERATION, Operator::Gt, &["4"]).matches(&labels));
        assert!(!req(LABEL_INSTANCE_CPU, Operator::Lt, &["16"]).matches(&labels));
        assert!(req("example.com/team", Operator::DoesNotExist, &[]).matches(&labels));
        assert!(req(LABEL_ARCH, Operator::Exists, &[]).matches(&labels));
        assert_eq!(labels[LABEL_INSTANCE_MEMORY], "32768");
    }
}
