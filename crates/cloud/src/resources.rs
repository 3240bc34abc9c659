//! Integer resource quantities.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// Bytes in one mebibyte.
pub const MIB: i64 = 1024 * 1024;
/// Bytes in one gibibyte.
pub const GIB: i64 = 1024 * MIB;

/// CPU, memory and pod slots, as Kubernetes counts them on a node or in a pod's requests.
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
}

impl Resources {
    /// No resources.
    pub const ZERO: Resources = Resources {
        cpu_millis: 0,
        memory_bytes: 0,
        pods: 0,
    };

    /// Resources of `cpu_millis` millicores, `memory_bytes` bytes and `pods` pod slots.
    pub const fn new(cpu_millis: i64, memory_bytes: i64, pods: i64) -> Self {
        Resources {
            cpu_millis,
            memory_bytes,
            pods,
        }
    }

    /// Whether every quantity of `self` is at most the matching quantity of `capacity`.
    pub fn fits_in(&self, capacity: &Resources) -> bool {
        self.cpu_millis <= capacity.cpu_millis
            && self.memory_bytes <= capacity.memory_bytes
            && self.pods <= capacity.pods
    }

    /// Each quantity the larger of the two.
    pub fn max(&self, other: &Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.max(other.cpu_millis),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
            pods: self.pods.max(other.pods),
        }
    }

    /// Each quantity clamped at zero.
    pub fn clamp_non_negative(&self) -> Resources {
        self.max(&Resources::ZERO)
    }

    /// Whether every quantity is zero or more.
    pub fn is_non_negative(&self) -> bool {
        self.cpu_millis >= 0 && self.memory_bytes >= 0 && self.pods >= 0
    }
}

impl Add for Resources {
    type Output = Resources;
    fn add(self, rhs: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis + rhs.cpu_millis,
            memory_bytes: self.memory_bytes + rhs.memory_bytes,
            pods: self.pods + rhs.pods,
        }
    }
}

impl AddAssign for Resources {
    fn add_assign(&mut self, rhs: Resources) {
        *self = *self + rhs;
    }
}

impl Sub for Resources {
    type Output = Resources;
    fn sub(self, rhs: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis - rhs.cpu_millis,
            memory_bytes: self.memory_bytes - rhs.memory_bytes,
            pods: self.pods - rhs.pods,
        }
    }
}

impl SubAssign for Resources {
    fn sub_assign(&mut self, rhs: Resources) {
        *self = *self - rhs;
    }
}

impl std::iter::Sum for Resources {
    fn sum<I: Iterator<Item = Resources>>(iter: I) -> Resources {
        iter.fold(Resources::ZERO, |a, b| a + b)
    }
}
