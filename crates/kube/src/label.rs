//! The syntax of label keys and values, which the Kubernetes API server checks in labels, node
//! selectors and label selectors (`IsQualifiedName` and `IsValidLabelValue` in
//! k8s.io/apimachinery `pkg/util/validation/validation.go`). Karpenter's NodePool CRD applies
//! the same patterns to requirement keys and values (`pkg/apis/crds/karpenter.sh_nodepools.yaml`
//! at v1.14.1).

use serde::Deserialize;

/// The start of the message for a label key that breaks the syntax.
pub const INVALID_KEY: &str = "invalid label key";

/// The start of the message for a label value that breaks the syntax.
pub const INVALID_VALUE: &str = "invalid label value";

/// The message for a label value written as a YAML null, such as `tier:` or `tier: null`.
pub const NULL_VALUE: &str = "a label value is a string and cannot be null";

/// Maximum length of a label value, and of the name part of a label key, in characters.
pub const MAX_NAME_LENGTH: usize = 63;

/// Maximum length of the prefix of a label key (a DNS subdomain), in characters.
pub const MAX_PREFIX_LENGTH: usize = 253;

/// Returns the rule that `name` breaks as a label value or the name part of a key, which must
/// begin and end with an ASCII letter or digit and contain only those, '-', '_' and '.'.
fn name_error(name: &str) -> Option<String> {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    if name.chars().count() > MAX_NAME_LENGTH {
        return Some(format!(
            "it has {} characters, more than the maximum of {MAX_NAME_LENGTH}",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !alphanumeric(*c) && !"-_.".contains(*c))
    {
        return Some(format!(
            "it contains {c:?}, but only ASCII letters, digits, '-', '_' and '.' are allowed"
        ));
    }
    if !name.starts_with(alphanumeric) {
        return Some("it must begin with an ASCII letter or digit".to_string());
    }
    if !name.ends_with(alphanumeric) {
        return Some("it must end with an ASCII letter or digit".to_string());
    }
    None
}

/// Returns the rule that `prefix`, the part of a label key before '/', breaks as a DNS
/// subdomain: lowercase dot-separated parts, each of ASCII letters, digits and '-', beginning
/// and ending with a letter or digit.
fn prefix_error(prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return Some("the prefix before '/' is empty".to_string());
    }
    if prefix.len() > MAX_PREFIX_LENGTH {
        return Some(format!(
            "the prefix before '/' has {} characters, more than the maximum of {MAX_PREFIX_LENGTH}",
            prefix.len()
        ));
    }
    let valid_part = |part: &str| {
        let lowercase = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        !part.is_empty()
            && part.chars().all(|c| lowercase(c) || c == '-')
            && part.starts_with(lowercase)
            && part.ends_with(lowercase)
    };
    if !prefix.split('.').all(valid_part) {
        return Some(format!(
            "the prefix {prefix:?} is not a DNS subdomain: lowercase letters, digits, '-' and '.', with each part between dots beginning and ending with a letter or digit"
        ));
    }
    None
}

/// Returns the rule that `value` breaks as a label value, or `None` when it is valid. An empty
/// value is valid.
pub fn value_error(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    name_error(value)
}

/// Returns the rule that `key` breaks as a label key, or `None` when it is valid. A key is a
/// name with the rules of a value but not empty, after an optional DNS subdomain prefix and '/'.
pub fn key_error(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((_, name)) if name.contains('/') => {
            return Some("it contains more than one '/'".to_string());
        }
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(error) = prefix.and_then(prefix_error) {
        return Some(error);
    }
    match (prefix, name.is_empty()) {
        (None, true) => Some("the key is empty".to_string()),
        (Some(_), true) => Some("the name after '/' is empty".to_string()),
        (None, false) => name_error(name),
        (Some(_), false) => {
            let error = name_error(name)?;
            let rule = error.strip_prefix("it ").unwrap_or(&error);
            Some(format!("the name after '/' {rule}"))
        }
    }
}

/// A label key, checked by [`key_error`] when it is read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelKey(pub String);

impl<'de> Deserialize<'de> for LabelKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_key(deserializer).map(LabelKey)
    }
}

/// Deserializes a label key, rejecting one that breaks the syntax.
pub fn deserialize_key<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let key = String::deserialize(deserializer)?;
    match key_error(&key) {
        Some(rule) => Err(serde::de::Error::custom(format!("{INVALID_KEY}: {rule}"))),
        None => Ok(key),
    }
}

#[cfg(test)]
mod tests {
    use super::{key_error, value_error};

    #[test]
    fn valid_values() {
        for value in ["", "a", "web", "My_Value-1.2", "12345", &"x".repeat(63)] {
            assert_eq!(value_error(value), None, "{value}");
        }
    }

    #[test]
    fn invalid_values() {
        let cases = [
            (
                "a b!",
                "it contains ' ', but only ASCII letters, digits, '-', '_' and '.' are allowed",
            ),
            ("-5", "it must begin with an ASCII letter or digit"),
            ("web.", "it must end with an ASCII letter or digit"),
            (
                "é",
                "it contains 'é', but only ASCII letters, digits, '-', '_' and '.' are allowed",
            ),
        ];
        for (value, rule) in cases {
            assert_eq!(value_error(value).as_deref(), Some(rule), "{value}");
        }
        let long = "x".repeat(64);
        assert_eq!(
            value_error(&long).as_deref(),
            Some("it has 64 characters, more than the maximum of 63")
        );
    }

    #[test]
    fn valid_keys() {
        let keys = [
            "app",
            "kubernetes.io/os",
            "topology.kubernetes.io/zone",
            "karpenter.k8s.aws/instance-generation",
            "example.com/My_Name",
            "a1-b/x",
        ];
        for key in keys {
            assert_eq!(key_error(key), None, "{key}");
        }
    }

    #[test]
    fn invalid_keys() {
        let cases = [
            ("", "the key is empty"),
            ("example.com/", "the name after '/' is empty"),
            ("/app", "the prefix before '/' is empty"),
            ("a/b/c", "it contains more than one '/'"),
            (
                "bad key",
                "it contains ' ', but only ASCII letters, digits, '-', '_' and '.' are allowed",
            ),
            ("-app", "it must begin with an ASCII letter or digit"),
            (
                "example.com/app-",
                "the name after '/' must end with an ASCII letter or digit",
            ),
            (
                "Example.com/app",
                "the prefix \"Example.com\" is not a DNS subdomain: lowercase letters, digits, '-' and '.', with each part between dots beginning and ending with a letter or digit",
            ),
            (
                "example..com/app",
                "the prefix \"example..com\" is not a DNS subdomain: lowercase letters, digits, '-' and '.', with each part between dots beginning and ending with a letter or digit",
            ),
        ];
        for (key, rule) in cases {
            assert_eq!(key_error(key).as_deref(), Some(rule), "{key:?}");
        }
        let long_prefix = format!("{}/app", "a".repeat(254));
        assert_eq!(
            key_error(&long_prefix).as_deref(),
            Some("the prefix before '/' has 254 characters, more than the maximum of 253")
        );
    }
}
