//! Strict reading of fields that Kubernetes declares as strings, such as label values and
//! selector values.
//!
//! YAML reads a plain `true`, `yes` or `1` as a boolean or a number. The Kubernetes API rejects
//! such a value in a string field until it is quoted, and so does [`deserialize`], with a
//! message that contains [`NOT_A_STRING_MARK`].

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::label::{self, LabelKey};

/// The part of every message of [`deserialize`] that follows the field's description. The
/// scenario loader looks for it to suggest quoting the value.
pub const NOT_A_STRING_MARK: &str = ", but YAML reads this one as ";

/// The description of selector and requirement values in the message of [`deserialize`].
const SELECTOR_VALUES: &str = "selector and requirement values are strings";

/// Reads a string, rejecting a value that the format reads as a boolean or a number.
/// `description` starts the error message. With `label`, the string must also be a valid
/// label value and must not be null.
struct Visitor {
    description: &'static str,
    label: bool,
}

impl Visitor {
    fn reject<E: serde::de::Error>(&self, found: &str) -> Result<String, E> {
        Err(E::custom(format!(
            "{}{NOT_A_STRING_MARK}{found}",
            self.description
        )))
    }
}

impl serde::de::Visitor<'_> for Visitor {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        if self.label
            && let Some(rule) = label::value_error(v)
        {
            return Err(E::custom(format!("{}: {rule}", label::INVALID_VALUE)));
        }
        Ok(v.to_string())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<String, E> {
        if self.label {
            return Err(E::custom(label::NULL_VALUE));
        }
        Ok(String::new())
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<String, E> {
        self.reject("a boolean")
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<String, E> {
        self.reject("a number")
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<String, E> {
        self.reject("a number")
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<String, E> {
        self.reject("a number")
    }
}

/// Deserializes a string, rejecting a value that the format reads as a boolean or a number.
/// `description` starts the error message, such as "label values are strings". A null or
/// empty value is an empty string, which is what Go's `encoding/json` stores for a JSON null
/// in a string field.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    description: &'static str,
) -> Result<String, D::Error> {
    // Only `deserialize_any` distinguishes a plain `true` or `1` from a quoted one.
    deserializer.deserialize_any(Visitor {
        description,
        label: false,
    })
}

/// Deserializes a label value as [`deserialize`] does, and also rejects a null and a value
/// that breaks the syntax of [`label::value_error`].
pub fn label_value<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    description: &'static str,
) -> Result<String, D::Error> {
    deserializer.deserialize_any(Visitor {
        description,
        label: true,
    })
}

/// The description of taint and toleration keys and values in the message of [`deserialize`].
const TAINT_STRINGS: &str = "taint and toleration keys and values are strings";

/// The description of a `topologyKey` in the message of [`deserialize`].
const TOPOLOGY_KEY: &str = "a topologyKey is a string, the key of a node label";

/// The description of the `namespaces` of a pod affinity term in the message of [`deserialize`].
const NAMESPACES: &str = "namespaces are strings";

/// Deserializes the `key` or `value` of a taint or toleration, a string in Kubernetes.
pub fn taint_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserialize(deserializer, TAINT_STRINGS)
}

/// Deserializes a `topologyKey` of a pod affinity term or a topology spread constraint.
pub fn topology_key<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserialize(deserializer, TOPOLOGY_KEY)
}

/// One namespace of a pod affinity term, read by [`deserialize`].
struct Namespace(String);

impl<'de> Deserialize<'de> for Namespace {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer, NAMESPACES).map(Namespace)
    }
}

/// Deserializes the `namespaces` of a pod affinity term, each a string.
pub fn namespaces<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let names = Vec::<Namespace>::deserialize(deserializer)?;
    Ok(names.into_iter().map(|name| name.0).collect())
}

/// One selector or requirement value, read by [`deserialize`].
struct SelectorValue(String);

impl<'de> Deserialize<'de> for SelectorValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer, SELECTOR_VALUES).map(SelectorValue)
    }
}

/// One selector or requirement value that must be a label value, read by [`label_value`].
struct SelectorLabelValue(String);

impl<'de> Deserialize<'de> for SelectorLabelValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        label_value(deserializer, SELECTOR_VALUES).map(SelectorLabelValue)
    }
}

/// Deserializes the `values` of a requirement or match expression, each a string
/// (`[]string` in Kubernetes' `NodeSelectorRequirement` and `LabelSelectorRequirement`).
// NOTE: the values of a label selector's matchExpressions are not checked as label values,
// because this function also reads the values of node affinity requirements.
pub fn selector_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let values = Vec::<SelectorValue>::deserialize(deserializer)?;
    Ok(values.into_iter().map(|value| value.0).collect())
}

/// Deserializes the `values` of a Karpenter NodePool requirement, each a label value, as the
/// NodePool CRD requires (`pkg/apis/crds/karpenter.sh_nodepools.yaml` at v1.14.1).
pub fn requirement_label_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let values = Vec::<SelectorLabelValue>::deserialize(deserializer)?;
    Ok(values.into_iter().map(|value| value.0).collect())
}

/// Deserializes a label selector's `matchLabels`, a `map[string]string` in Kubernetes, whose
/// keys and values must be valid label keys and values.
pub fn selector_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<LabelKey, SelectorLabelValue>::deserialize(deserializer)?;
    Ok(map
        .into_iter()
        .map(|(key, value)| (key.0, value.0))
        .collect())
}
