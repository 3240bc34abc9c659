//! Strict reading of the integer fields of an HPA's `behavior`, which Kubernetes declares as
//! `int32` (autoscaling/v2 `HPAScalingRules` and `HPAScalingPolicy`).
//!
//! The parser turns a quoted `"60"` into a number where the field is an integer, but the
//! Kubernetes API rejects a JSON string in an integer field, so these fields take only a plain
//! whole number. The messages start with [`QUOTED_INTEGER`] or equal [`NOT_WHOLE_SECONDS`], for
//! which [`crate::parse_error`] suggests a fix.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// The start of the parser message for a whole number written in quotes.
pub(crate) const QUOTED_INTEGER: &str = "the number is quoted, so YAML reads it as a string, but Kubernetes declares this field an integer";

/// The parser message for a seconds field whose value is not a whole number, such as `60s`.
pub(crate) const NOT_WHOLE_SECONDS: &str = "expected a whole number of seconds";

/// The parser's own message for a value that is not a whole number, which
/// [`crate::parse_error`] rewords and which also reports a number too large for the field.
const NOT_AN_INTEGER: &str = "invalid i64";

/// Reads a plain whole number. `seconds` marks a field that counts seconds, whose error for a
/// value such as `60s` gets a fix that drops the unit.
struct Visitor {
    seconds: bool,
}

impl Visitor {
    fn reject<E: serde::de::Error>(&self) -> Result<i64, E> {
        Err(E::custom(if self.seconds {
            NOT_WHOLE_SECONDS
        } else {
            NOT_AN_INTEGER
        }))
    }
}

impl serde::de::Visitor<'_> for Visitor {
    type Value = i64;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        // With the parser's own message, the loader reports that the number is too large.
        i64::try_from(v).map_err(|_| E::custom(NOT_AN_INTEGER))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
        if v.trim().parse::<i64>().is_ok() {
            return Err(E::custom(QUOTED_INTEGER));
        }
        self.reject()
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // A whole number beyond `u64` arrives as a float.
        if v.fract() == 0.0 && v.abs() > i64::MAX as f64 {
            return Err(E::custom(NOT_AN_INTEGER));
        }
        self.reject()
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<i64, E> {
        self.reject()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<i64, E> {
        self.reject()
    }
}

/// A plain whole number; `SECONDS` marks a field that counts seconds (see [`Visitor`]).
struct WholeNumber<const SECONDS: bool>(i64);

impl<'de, const SECONDS: bool> Deserialize<'de> for WholeNumber<SECONDS> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only `deserialize_any` distinguishes a plain `60` from a quoted one.
        deserializer
            .deserialize_any(Visitor { seconds: SECONDS })
            .map(WholeNumber)
    }
}

/// Returns the number of `number`, keeping its position.
fn unwrap<const SECONDS: bool>(number: Spanned<WholeNumber<SECONDS>>) -> Spanned<i64> {
    Spanned::new(number.value.0, number.referenced, number.defined)
}

/// Deserializes a plain whole number of seconds with its position.
pub(crate) fn seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Spanned<i64>, D::Error> {
    Spanned::<WholeNumber<true>>::deserialize(deserializer).map(unwrap)
}

/// Deserializes an optional plain whole number of seconds with its position. A null is `None`,
/// as for the API's `*int32`.
pub(crate) fn optional_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Spanned<i64>>, D::Error> {
    let number = Option::<Spanned<WholeNumber<true>>>::deserialize(deserializer)?;
    Ok(number.map(unwrap))
}

/// Deserializes a plain whole number with its position.
pub(crate) fn integer<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Spanned<i64>, D::Error> {
    Spanned::<WholeNumber<false>>::deserialize(deserializer).map(unwrap)
}
