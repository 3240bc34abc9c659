//! Integer resource quantities.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// Bytes in one mebibyte.
pub const MIB: i64 = 1024 * 1024;
/// Bytes in one gibibyte.
pub const GIB: i64 = 1024 * MIB;

/// Extended resources the model tracks by name: the device-plugin resources that Karpenter's
/// AWS provider lists as well-known exotic resources (`pkg/apis/v1/labels.go`,
/// `WellKnownExoticResources`), and one slot shared by every other name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExtendedResource {
    /// `nvidia.com/gpu`.
    NvidiaGpu,
    /// `amd.com/gpu`.
    AmdGpu,
    /// `aws.amazon.com/neuron` (Inferentia and Trainium devices).
    AwsNeuron,
    /// `aws.amazon.com/neuroncore`.
    AwsNeuronCore,
    /// `habana.ai/gaudi`.
    HabanaGaudi,
    /// Any other extended resource. No instance type offers one, so a pod that requests it
    /// fits on no node.
    Other,
}

/// Number of [`ExtendedResource`] slots in [`Resources::extended`].
pub const EXTENDED_RESOURCES: usize = 6;

impl ExtendedResource {
    /// Every slot, in the order of [`Resources::extended`].
    pub const ALL: [ExtendedResource; EXTENDED_RESOURCES] = [
        ExtendedResource::NvidiaGpu,
        ExtendedResource::AmdGpu,
        ExtendedResource::AwsNeuron,
        ExtendedResource::AwsNeuronCore,
        ExtendedResource::HabanaGaudi,
        ExtendedResource::Other,
    ];

    /// Resource name as pods request it; `other` for the slot of unknown names.
    pub fn name(self) -> &'static str {
        match self {
            ExtendedResource::NvidiaGpu => "nvidia.com/gpu",
            ExtendedResource::AmdGpu => "amd.com/gpu",
            ExtendedResource::AwsNeuron => "aws.amazon.com/neuron",
            ExtendedResource::AwsNeuronCore => "aws.amazon.com/neuroncore",
            ExtendedResource::HabanaGaudi => "habana.ai/gaudi",
            ExtendedResource::Other => "other",
        }
    }

    /// Returns the slot of resource `name`: its own for a known name, else
    /// [`ExtendedResource::Other`].
    pub fn from_name(name: &str) -> ExtendedResource {
        Self::ALL
            .into_iter()
            .find(|r| *r != ExtendedResource::Other && r.name() == name)
            .unwrap_or(ExtendedResource::Other)
    }

    #[inline]
    fn index(self) -> usize {
        self as usize
    }
}

#[inline]
fn no_extended(extended: &[i64; EXTENDED_RESOURCES]) -> bool {
    extended.iter().all(|n| *n == 0)
}

/// CPU, memory, pod slots and extended resources, as Kubernetes counts them on a node or in a
/// pod's requests.
///
/// Signed so that free capacity can go negative while a what-if is evaluated; a valid node or
/// pod never holds negative values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_millis: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
    /// Pod slots.
    pub pods: i64,
    /// Extended resources (devices), whole units, indexed in [`ExtendedResource::ALL`] order.
    #[serde(default, skip_serializing_if = "no_extended")]
    pub extended: [i64; EXTENDED_RESOURCES],
}

impl Resources {
    /// No resources.
    pub const ZERO: Resources = Resources {
        cpu_millis: 0,
        memory_bytes: 0,
        pods: 0,
        extended: [0; EXTENDED_RESOURCES],
    };

    /// Resources of `cpu_millis` millicores, `memory_bytes` bytes and `pods` pod slots, with
    /// no extended resources.
    pub const fn new(cpu_millis: i64, memory_bytes: i64, pods: i64) -> Self {
        Resources {
            cpu_millis,
            memory_bytes,
            pods,
            extended: [0; EXTENDED_RESOURCES],
        }
    }

    /// These resources with `count` units of extended resource `resource`.
    pub const fn with_extended(mut self, resource: ExtendedResource, count: i64) -> Self {
        self.extended[resource as usize] = count;
        self
    }

    /// Units of extended resource `resource`.
    #[inline]
    pub fn extended(&self, resource: ExtendedResource) -> i64 {
        self.extended[resource.index()]
    }

    /// Checks whether any extended resource is non-zero.
    #[inline]
    pub fn has_extended(&self) -> bool {
        !no_extended(&self.extended)
    }

    /// Whether every quantity of `self` is at most the matching quantity of `capacity`.
    #[inline]
    pub fn fits_in(&self, capacity: &Resources) -> bool {
        self.cpu_millis <= capacity.cpu_millis
            && self.memory_bytes <= capacity.memory_bytes
            && self.pods <= capacity.pods
            && self
                .extended
                .iter()
                .zip(&capacity.extended)
                .all(|(wanted, available)| wanted <= available)
    }

    /// Each quantity the larger of the two.
    pub fn max(&self, other: &Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.max(other.cpu_millis),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
            pods: self.pods.max(other.pods),
            extended: std::array::from_fn(|i| self.extended[i].max(other.extended[i])),
        }
    }

    /// Each quantity clamped at zero.
    pub fn clamp_non_negative(&self) -> Resources {
        self.max(&Resources::ZERO)
    }

    /// Whether every quantity is zero or more.
    pub fn is_non_negative(&self) -> bool {
        self.cpu_millis >= 0
            && self.memory_bytes >= 0
            && self.pods >= 0
            && self.extended.iter().all(|n| *n >= 0)
    }
}

impl Add for Resources {
    type Output = Resources;
    #[inline]
    fn add(self, rhs: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis + rhs.cpu_millis,
            memory_bytes: self.memory_bytes + rhs.memory_bytes,
            pods: self.pods + rhs.pods,
            extended: std::array::from_fn(|i| self.extended[i] + rhs.extended[i]),
        }
    }
}

impl AddAssign for Resources {
    #[inline]
    fn add_assign(&mut self, rhs: Resources) {
        *self = *self + rhs;
    }
}

impl Sub for Resources {
    type Output = Resources;
    #[inline]
    fn sub(self, rhs: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis - rhs.cpu_millis,
            memory_bytes: self.memory_bytes - rhs.memory_bytes,
            pods: self.pods - rhs.pods,
            extended: std::array::from_fn(|i| self.extended[i] - rhs.extended[i]),
        }
    }
}

impl SubAssign for Resources {
    #[inline]
    fn sub_assign(&mut self, rhs: Resources) {
        *self = *self - rhs;
    }
}

impl std::iter::Sum for Resources {
    fn sum<I: Iterator<Item = Resources>>(iter: I) -> Resources {
        iter.fold(Resources::ZERO, |a, b| a + b)
    }
}
