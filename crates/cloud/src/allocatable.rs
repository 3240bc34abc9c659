//! Node capacity and allocatable by the EKS and Karpenter formulas.
//!
//! Source: aws/karpenter-provider-aws v1.14, `pkg/providers/instancetype/types.go` (memory
//! overhead, pods, kube-reserved) and `pkg/operator/options/options.go` (defaults), for AL2023
//! nodes with the VPC CNI's ENI-limited pod density and no user `kubeReserved`,
//! `systemReserved` or `evictionHard` overrides.

use crate::catalog::{Arch, InstanceType};
use crate::resources::{ExtendedResource, MIB, Resources};

/// Kubernetes' default max pods per node, used when no ENI limit is known.
pub const DEFAULT_MAX_PODS: u32 = 110;

/// Share of EC2 memory that the hypervisor and kernel keep, `VM_MEMORY_OVERHEAD_PERCENT`
/// (Karpenter default 0.075), in thousandths.
pub const VM_MEMORY_OVERHEAD_PER_MILLE: u64 = 75;

/// Memory that Graviton (arm64) kernels reserve for CMA, in MiB (Karpenter v1.14).
pub const ARM64_CMA_MIB: u64 = 64;

/// Hard eviction threshold for memory, in MiB (kubelet `memory.available<100Mi`).
pub const EVICTION_THRESHOLD_MEMORY_MIB: i64 = 100;

/// Memory capacity a node of `instance_type` reports, in MiB: EC2 memory, less the arm64 CMA
/// reservation, less `ceil(7.5 %)` of what remains.
pub fn node_memory_capacity_mib(instance_type: &InstanceType) -> u64 {
    let after_cma = match instance_type.arch {
        Arch::Arm64 => instance_type.memory_mib.saturating_sub(ARM64_CMA_MIB),
        Arch::Amd64 => instance_type.memory_mib,
    };
    after_cma - (after_cma * VM_MEMORY_OVERHEAD_PER_MILLE).div_ceil(1000)
}

/// Node capacity: all vCPUs, memory after the VM overhead, the pod limit, and the GPUs and
/// Neuron devices as their extended resources.
pub fn node_capacity(instance_type: &InstanceType) -> Resources {
    Resources::new(
        i64::from(instance_type.vcpu) * 1000,
        node_memory_capacity_mib(instance_type) as i64 * MIB,
        i64::from(instance_type.max_pods()),
    )
    .with_extended(
        instance_type.gpu_resource(),
        i64::from(instance_type.gpu_count),
    )
    .with_extended(
        ExtendedResource::AwsNeuron,
        i64::from(instance_type.neuron_devices),
    )
    .with_extended(
        ExtendedResource::AwsNeuronCore,
        i64::from(instance_type.neuron_cores),
    )
}

/// kube-reserved CPU in millicores: 6 % of the first core, 1 % of the second, 0.5 % of the
/// third and fourth, and 0.25 % of every further core, rounded down to a whole millicore.
pub fn kube_reserved_cpu_millis(vcpu: u32) -> i64 {
    // Summed in tenths of a millicore so that 0.25 % (2.5 m) per core stays exact.
    let tenths: i64 = (0..i64::from(vcpu))
        .map(|core| match core {
            0 => 600,
            1 => 100,
            2 | 3 => 50,
            _ => 25,
        })
        .sum();
    tenths / 10
}

/// kube-reserved memory in MiB: 11 MiB per pod slot plus 255 MiB.
pub fn kube_reserved_memory_mib(max_pods: u32) -> i64 {
    11 * i64::from(max_pods) + 255
}

/// Node allocatable: capacity less kube-reserved CPU and memory and the memory eviction
/// threshold. System-reserved is zero by default, as in Karpenter, and nothing is reserved of
/// the extended resources.
pub fn node_allocatable(instance_type: &InstanceType) -> Resources {
    let capacity = node_capacity(instance_type);
    let reserved_memory_mib =
        kube_reserved_memory_mib(instance_type.max_pods()) + EVICTION_THRESHOLD_MEMORY_MIB;
    Resources {
        cpu_millis: capacity.cpu_millis - kube_reserved_cpu_millis(instance_type.vcpu),
        memory_bytes: capacity.memory_bytes - reserved_memory_mib * MIB,
        ..capacity
    }
}

/// A memory eviction threshold (`evictionHard` `memory.available`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionThreshold {
    /// An amount of memory, in bytes.
    Bytes(i64),
    /// A share of the node's memory capacity, in hundredths of a percent (`5%` is 500).
    Basis(u32),
}

/// The kubelet settings of an EC2NodeClass (`spec.kubelet`) that change node allocatable.
/// `None` keeps the AWS provider's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeletConfig {
    /// `maxPods`: pod slots in place of the ENI-limited count.
    pub max_pods: Option<u32>,
    /// `kubeReserved.cpu`, in millicores.
    pub kube_reserved_cpu_millis: Option<i64>,
    /// `kubeReserved.memory`, in bytes.
    pub kube_reserved_memory_bytes: Option<i64>,
    /// `systemReserved.cpu`, in millicores.
    pub system_reserved_cpu_millis: Option<i64>,
    /// `systemReserved.memory`, in bytes.
    pub system_reserved_memory_bytes: Option<i64>,
    /// `evictionHard["memory.available"]`.
    pub eviction_hard_memory: Option<EvictionThreshold>,
}

/// Computes node capacity with `kubelet`: `maxPods` replaces the pod slots.
pub fn node_capacity_with(instance_type: &InstanceType, kubelet: &KubeletConfig) -> Resources {
    let mut capacity = node_capacity(instance_type);
    if let Some(max_pods) = kubelet.max_pods {
        capacity.pods = i64::from(max_pods);
    }
    capacity
}

/// Computes node allocatable with `kubelet` as the AWS provider does
/// (aws/karpenter-provider-aws `pkg/providers/instancetype/types.go`). A `kubeReserved` value
/// replaces the default for its resource, and `systemReserved` is subtracted as well.
/// `evictionHard` `memory.available` replaces the 100 MiB threshold: a percentage is of the
/// memory capacity, rounded up, and 100% turns the threshold off.
///
/// NOTE: the default kube-reserved memory keeps counting the ENI-limited pods when `maxPods` is
/// set, as for the AL2 and AL2023 AMI families; Bottlerocket would count `maxPods`.
/// `evictionSoft` is not counted.
pub fn node_allocatable_with(instance_type: &InstanceType, kubelet: &KubeletConfig) -> Resources {
    let capacity = node_capacity_with(instance_type, kubelet);
    let kube_reserved_cpu = kubelet
        .kube_reserved_cpu_millis
        .unwrap_or_else(|| kube_reserved_cpu_millis(instance_type.vcpu));
    let kube_reserved_memory = kubelet
        .kube_reserved_memory_bytes
        .unwrap_or_else(|| kube_reserved_memory_mib(instance_type.max_pods()) * MIB);
    let eviction_memory = match kubelet.eviction_hard_memory {
        None => EVICTION_THRESHOLD_MEMORY_MIB * MIB,
        Some(EvictionThreshold::Bytes(bytes)) => bytes,
        Some(EvictionThreshold::Basis(10_000)) => 0,
        Some(EvictionThreshold::Basis(basis)) => {
            let bytes = capacity.memory_bytes.max(0) as u128 * u128::from(basis);
            bytes.div_ceil(10_000) as i64
        }
    };
    Resources {
        cpu_millis: capacity.cpu_millis
            - kube_reserved_cpu
            - kubelet.system_reserved_cpu_millis.unwrap_or(0),
        memory_bytes: capacity.memory_bytes
            - kube_reserved_memory
            - kubelet.system_reserved_memory_bytes.unwrap_or(0)
            - eviction_memory,
        ..capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::resources::ExtendedResource;

    #[test]
    fn m5_xlarge_kube_reserved_matches_karpenter_test() {
        // Karpenter's "should use defaults" overhead test: 80m CPU and 893Mi (11 × 58 + 255).
        assert_eq!(kube_reserved_cpu_millis(4), 80);
        assert_eq!(kube_reserved_memory_mib(58), 893);
    }

    #[test]
    fn m5_large_allocatable_worked_example() {
        let catalog = Catalog::builtin();
        let allocatable = catalog.by_name("m5.large").unwrap().allocatable();
        assert_eq!(allocatable, Resources::new(1930, 6903 * MIB, 29));
    }

    #[test]
    fn graviton_subtracts_cma_before_overhead() {
        let catalog = Catalog::builtin();
        // a1.2xlarge: 16384 − 64 = 16320; − ceil(1224.0) = 15096 MiB.
        assert_eq!(
            node_memory_capacity_mib(catalog.by_name("a1.2xlarge").unwrap()),
            15096
        );
    }

    #[test]
    fn kubelet_overrides_allocatable() {
        let catalog = Catalog::builtin();
        let m5_large = catalog.by_name("m5.large").unwrap();
        assert_eq!(
            node_allocatable_with(m5_large, &KubeletConfig::default()),
            m5_large.allocatable()
        );

        // maxPods 20, kube-reserved 200m / 100Mi, system-reserved 100m / 100Mi and an eviction
        // threshold of 5% of the 7577 MiB capacity (378.85 MiB, rounded up to the byte).
        let kubelet = KubeletConfig {
            max_pods: Some(20),
            kube_reserved_cpu_millis: Some(200),
            kube_reserved_memory_bytes: Some(100 * MIB),
            system_reserved_cpu_millis: Some(100),
            system_reserved_memory_bytes: Some(100 * MIB),
            eviction_hard_memory: Some(EvictionThreshold::Basis(500)),
        };
        let capacity_bytes = 7577 * MIB;
        let eviction = ((capacity_bytes * 5) as u64).div_ceil(100) as i64;
        assert_eq!(
            node_allocatable_with(m5_large, &kubelet),
            Resources::new(2000 - 300, capacity_bytes - 200 * MIB - eviction, 20)
        );

        // Only maxPods: kube-reserved memory still counts the 29 ENI-limited pods.
        let max_pods_only = KubeletConfig {
            max_pods: Some(110),
            ..Default::default()
        };
        assert_eq!(
            node_allocatable_with(m5_large, &max_pods_only),
            Resources::new(1930, 6903 * MIB, 110)
        );
    }

    #[test]
    fn gpu_types_advertise_their_gpus() {
        let catalog = Catalog::builtin();
        let g5 = catalog.by_name("g5.12xlarge").unwrap().allocatable();
        assert_eq!(g5.extended(ExtendedResource::NvidiaGpu), 4);
        assert_eq!(g5.extended(ExtendedResource::AmdGpu), 0);
        let g4ad = catalog.by_name("g4ad.8xlarge").unwrap().allocatable();
        assert_eq!(g4ad.extended(ExtendedResource::AmdGpu), 2);
        assert_eq!(g4ad.extended(ExtendedResource::NvidiaGpu), 0);
        let m5 = catalog.by_name("m5.large").unwrap().allocatable();
        assert!(!m5.has_extended());
    }

    #[test]
    fn odd_core_counts_round_down() {
        // 6 cores: 60 + 10 + 5 + 5 + 2.5 + 2.5 = 85 m; 5 cores: 82.5 m → 82 m.
        assert_eq!(kube_reserved_cpu_millis(6), 85);
        assert_eq!(kube_reserved_cpu_millis(5), 82);
        assert_eq!(kube_reserved_cpu_millis(1), 60);
    }
}
