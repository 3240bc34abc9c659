//! Strict reading of fields that Kubernetes declares as integers (`int32` or `int64`), such as
//! `replicas`, `maxSkew`, `priority` and the integer fields of an HPA's `behavior`.
//!
//! The parser turns a quoted `"3"` into a number where the field is an integer, but the
//! Kubernetes API rejects a JSON string in an integer field, so these fields take only a plain
//! whole number. A quoted whole number gets a message that starts with [`QUOTED_INTEGER`]. A
//! seconds field with another value gets [`NOT_WHOLE_SECONDS`]. Any other value, and a number
//! out of the type's range, gets the parser's own message for the type, such as `invalid u32`.

use std::marker::PhantomData;

use serde::Deserialize;

/// The start of the message for a whole number written in quotes.
pub const QUOTED_INTEGER: &str = "the number is quoted, so YAML reads it as a string, but Kubernetes declares this field an integer";

/// The message for a seconds field whose value is not a whole number, such as `60s`.
pub const NOT_WHOLE_SECONDS: &str = "expected a whole number of seconds";

/// An integer type that a strict field can have.
pub trait Integer: Sized + TryFrom<i64> + TryFrom<u64> {
    /// The message for a value that is not a whole number of this type, worded as the
    /// parser's own message for the type, such as `invalid u32`.
    const INVALID: &'static str;
}

impl Integer for u16 {
    const INVALID: &'static str = "invalid u16";
}

impl Integer for u32 {
    const INVALID: &'static str = "invalid u32";
}

impl Integer for u64 {
    const INVALID: &'static str = "invalid u64";
}

impl Integer for i32 {
    const INVALID: &'static str = "invalid i32";
}

impl Integer for i64 {
    const INVALID: &'static str = "invalid i64";
}

/// Reads a plain whole number of type `T`. `seconds` marks a field that counts seconds, whose
/// error for a value such as `60s` gets a fix that drops the unit.
struct Visitor<T> {
    seconds: bool,
    integer: PhantomData<T>,
}

impl<T: Integer> Visitor<T> {
    fn reject<E: serde::de::Error>(&self) -> Result<T, E> {
        Err(E::custom(if self.seconds {
            NOT_WHOLE_SECONDS
        } else {
            T::INVALID
        }))
    }
}

impl<T: Integer> serde::de::Visitor<'_> for Visitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        // A number out of the type's range gets the type's own message, which the scenario
        // loader turns into the range that the field takes.
        T::try_from(v).map_err(|_| E::custom(T::INVALID))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(T::INVALID))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        if v.trim().parse::<i128>().is_ok() {
            return Err(E::custom(QUOTED_INTEGER));
        }
        self.reject()
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        // A whole number beyond `u64` arrives as a float.
        if v.fract() == 0.0 && v.abs() > i64::MAX as f64 {
            return Err(E::custom(T::INVALID));
        }
        self.reject()
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<T, E> {
        self.reject()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<T, E> {
        self.reject()
    }
}

/// A plain whole number of type `T`. `SECONDS` marks a field that counts seconds, whose error
/// for a value such as `60s` is [`NOT_WHOLE_SECONDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WholeNumber<T, const SECONDS: bool = false>(pub T);

impl<'de, T: Integer, const SECONDS: bool> Deserialize<'de> for WholeNumber<T, SECONDS> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only `deserialize_any` distinguishes a plain `60` from a quoted one.
        let visitor = Visitor {
            seconds: SECONDS,
            integer: PhantomData,
        };
        deserializer.deserialize_any(visitor).map(WholeNumber)
    }
}

/// Deserializes a plain whole number, for `#[serde(deserialize_with = ...)]`.
pub fn integer<'de, D: serde::Deserializer<'de>, T: Integer>(
    deserializer: D,
) -> Result<T, D::Error> {
    WholeNumber::<T>::deserialize(deserializer).map(|number| number.0)
}

/// Deserializes an optional plain whole number. A null is `None`, as for the API's `*int32`.
pub fn optional_integer<'de, D: serde::Deserializer<'de>, T: Integer>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let number = Option::<WholeNumber<T>>::deserialize(deserializer)?;
    Ok(number.map(|number| number.0))
}
