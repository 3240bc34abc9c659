//! Node requirements (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`) over node labels, and
//! the labels an instance type gives a node.

use std::collections::BTreeMap;

use autoscale_sim_cloud::InstanceType;
use autoscale_sim_kube::{LABEL_ARCH, LABEL_INSTANCE_TYPE, LABEL_OS};
use serde::{Deserialize, Serialize};

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

/// Labels a node of `instance_type` carries, as Karpenter and EKS set them.
pub fn instance_type_labels(instance_type: &InstanceType) -> BTreeMap<String, String> {
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
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Operator of a node selector requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's value, as an integer, is greater than the single value.
    Gt,
    /// The label's value, as an integer, is less than the single value.
    Lt,
}

/// One node selector requirement, as in a NodePool's `requirements` or a pod's node affinity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub operator: Operator,
    /// Values; one integer for `Gt` and `Lt`, none for `Exists` and `DoesNotExist`.
    #[serde(default)]
    pub values: Vec<String>,
    /// Karpenter's `minValues`: the number of distinct values the launch must keep to choose from.
    /// NOTE: accepted but not enforced yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_values: Option<u32>,
}

impl Requirement {
    /// Whether `labels` satisfy this requirement (Kubernetes `NodeSelectorRequirement` semantics).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Gt | Operator::Lt => {
                let (Some(value), Some(bound)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Operator::Gt {
                    value > bound
                } else {
                    value < bound
                }
            }
        }
    }

    /// Checks the shape: values present for `In`/`NotIn`, absent for `Exists`/`DoesNotExist`,
    /// one integer for `Gt`/`Lt`. Returns what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        match self.operator {
            Operator::In | Operator::NotIn if self.values.is_empty() => Err(format!(
                "operator {:?} needs at least one value",
                self.operator
            )),
            Operator::Exists | Operator::DoesNotExist if !self.values.is_empty() => {
                Err(format!("operator {:?} takes no values", self.operator))
            }
            Operator::Gt | Operator::Lt
                if self.values.len() != 1 || self.values[0].parse::<i64>().is_err() =>
            {
                Err(format!(
                    "operator {:?} needs exactly one integer value",
                    self.operator
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Whether `labels` satisfy every requirement.
pub fn all_match(requirements: &[Requirement], labels: &BTreeMap<String, String>) -> bool {
    requirements.iter().all(|r| r.matches(labels))
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

    #[test]
    fn requirement_shape_checks() {
        assert!(req("k", Operator::In, &[]).validate().is_err());
        assert!(req("k", Operator::Exists, &["x"]).validate().is_err());
        assert!(req("k", Operator::Gt, &["x"]).validate().is_err());
        assert!(req("k", Operator::Gt, &["3"]).validate().is_ok());
    }
}
