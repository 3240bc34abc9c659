//! Strict reading of the integer fields of the scenario's Kubernetes objects, with their
//! positions. [`autoscale_sim_kube::whole_number`] rejects a quoted number, and
//! [`crate::parse_error`] suggests a fix for its messages.

use autoscale_sim_kube::whole_number::{Integer, WholeNumber};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Returns the number of `number`, keeping its position.
fn unwrap<T, const SECONDS: bool>(number: Spanned<WholeNumber<T, SECONDS>>) -> Spanned<T> {
    Spanned::new(number.value.0, number.referenced, number.defined)
}

/// Deserializes a plain whole number of seconds with its position.
pub(crate) fn seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Spanned<i64>, D::Error> {
    Spanned::<WholeNumber<i64, true>>::deserialize(deserializer).map(unwrap)
}

/// Deserializes an optional plain whole number of seconds with its position. A null is `None`,
/// as for the API's `*int32`.
pub(crate) fn optional_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Spanned<i64>>, D::Error> {
    let number = Option::<Spanned<WholeNumber<i64, true>>>::deserialize(deserializer)?;
    Ok(number.map(unwrap))
}

/// Deserializes a plain whole number with its position.
pub(crate) fn integer<'de, D: serde::Deserializer<'de>, T: Integer>(
    deserializer: D,
) -> Result<Spanned<T>, D::Error> {
    Spanned::<WholeNumber<T>>::deserialize(deserializer).map(unwrap)
}

/// Deserializes an optional plain whole number with its position. A null is `None`.
pub(crate) fn optional_integer<'de, D: serde::Deserializer<'de>, T: Integer>(
    deserializer: D,
) -> Result<Option<Spanned<T>>, D::Error> {
    let number = Option::<Spanned<WholeNumber<T>>>::deserialize(deserializer)?;
    Ok(number.map(unwrap))
}
