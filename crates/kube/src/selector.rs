//! Label selection as Kubernetes does it: node selector requirements (`In`, `NotIn`, `Exists`,
//! `DoesNotExist`, `Gt`, `Lt`) and label selectors (`matchLabels`, `matchExpressions`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Operator of a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's value, as an integer, is greater than the single value (node selectors only).
    Gt,
    /// The label's value, as an integer, is less than the single value (node selectors only).
    Lt,
}

/// One requirement on a label: a NodeSelectorRequirement, a label selector's match expression,
/// or a NodePool requirement.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requirement {
    /// Label key.
    #[serde(deserialize_with = "crate::label::deserialize_key")]
    pub key: String,
    /// Operator.
    pub operator: Operator,
    /// Values; one integer for `Gt` and `Lt`, none for `Exists` and `DoesNotExist`.
    #[serde(default, deserialize_with = "crate::string_value::selector_values")]
    pub values: Vec<String>,
    /// Karpenter's `minValues`: how many distinct values a launch must keep to choose from.
    /// Only the Karpenter policy enforces it, on NodePool requirements.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::whole_number::optional_integer"
    )]
    pub min_values: Option<u32>,
}

impl Requirement {
    /// Checks whether `labels` satisfy this requirement (Kubernetes `NodeSelectorRequirement`
    /// semantics; a missing label fails `Gt` and `Lt`).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Gt | Operator::Lt => {
                let label = value.and_then(|v| v.parse::<i64>().ok());
                let bound = self.values.first().and_then(|v| v.parse::<i64>().ok());
                let (Some(label), Some(bound)) = (label, bound) else {
                    return false;
                };
                if self.operator == Operator::Gt {
                    label > bound
                } else {
                    label < bound
                }
            }
        }
    }

    /// Checks the shape: values present for `In`/`NotIn`, absent for `Exists`/`DoesNotExist`,
    /// one integer for `Gt`/`Lt`. Returns the problem.
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

/// Checks whether `labels` satisfy every requirement.
pub fn all_match(requirements: &[Requirement], labels: &BTreeMap<String, String>) -> bool {
    requirements.iter().all(|r| r.matches(labels))
}

/// A label selector (`matchLabels` and `matchExpressions`, all of which must hold).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Labels that must be present with these values.
    #[serde(default, deserialize_with = "crate::string_value::selector_map")]
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements (`In`, `NotIn`, `Exists`, `DoesNotExist`).
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// Checks whether `labels` match. An empty selector matches everything.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && all_match(&self.match_expressions, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn requirement(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
            min_values: None,
        }
    }

    #[test]
    fn operators_match_labels() {
        let node = labels(&[("tier", "web"), ("cpu", "16")]);
        assert!(requirement("tier", Operator::In, &["web", "api"]).matches(&node));
        assert!(!requirement("tier", Operator::NotIn, &["web"]).matches(&node));
        assert!(requirement("zone", Operator::NotIn, &["a"]).matches(&node));
        assert!(requirement("cpu", Operator::Gt, &["8"]).matches(&node));
        assert!(!requirement("cpu", Operator::Lt, &["16"]).matches(&node));
        assert!(!requirement("missing", Operator::Gt, &["1"]).matches(&node));
        assert!(requirement("missing", Operator::DoesNotExist, &[]).matches(&node));
        assert!(requirement("tier", Operator::Exists, &[]).matches(&node));
    }

    #[test]
    fn label_selector_combines_parts() {
        let pod = labels(&[("app", "web"), ("track", "stable")]);
        let selector = LabelSelector {
            match_labels: labels(&[("app", "web")]),
            match_expressions: vec![requirement("track", Operator::In, &["stable"])],
        };
        assert!(selector.matches(&pod));
        assert!(LabelSelector::default().matches(&pod));
        let other = LabelSelector {
            match_labels: labels(&[("app", "db")]),
            ..Default::default()
        };
        assert!(!other.matches(&pod));
    }

    #[test]
    fn requirement_shapes() {
        assert!(requirement("k", Operator::In, &[]).validate().is_err());
        assert!(
            requirement("k", Operator::Exists, &["x"])
                .validate()
                .is_err()
        );
        assert!(requirement("k", Operator::Gt, &["x"]).validate().is_err());
        assert!(requirement("k", Operator::Gt, &["3"]).validate().is_ok());
    }
}
