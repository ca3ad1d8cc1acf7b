//! JSON reading helpers shared by the JOSE header, the claims and the role decoders: strings
//! borrowed from the input when they can be, and RFC 7519 NumericDates.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A member name or string value, borrowed from the input when it has no escapes.
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// An RFC 7519 §2 NumericDate: a non-negative JSON number of seconds since the epoch, whole or
/// not, in any of JSON's number forms (`1795831250`, `1795831250.5`, `1.79583125e9`).
///
/// A fraction is rounded toward refusal: down for an expiry (`ROUND_UP == false`), up for a
/// not-before (`ROUND_UP == true`). Negative numbers and numbers that round to 2^64 or more are
/// refused; so are strings, which RFC 7519 does not allow. JSON has no non-finite numbers, and
/// the parser refuses the ones too large for an `f64`.
pub(crate) struct NumericDate<const ROUND_UP: bool>(pub(crate) u64);

/// 2^64, the first value a `u64` does not hold; exactly representable as an `f64`.
const U64_LIMIT: f64 = 18_446_744_073_709_551_616.0;

impl<'de, const ROUND_UP: bool> de::Deserialize<'de> for NumericDate<ROUND_UP> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumericDateVisitor<const ROUND_UP: bool>;
        impl<const ROUND_UP: bool> Visitor<'_> for NumericDateVisitor<ROUND_UP> {
            type Value = NumericDate<ROUND_UP>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(NumericDate(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(NumericDate)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let seconds = if ROUND_UP { v.ceil() } else { v.floor() };
                // The sign is judged before rounding (-0.5 would round up to zero); NaN fails
                // the comparison, and -0.0 is zero.
                if v >= 0.0 && seconds < U64_LIMIT {
                    // Exact: `seconds` is a whole number in 0..2^64.
                    Ok(NumericDate(seconds as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        // serde_json calls visit_u64, visit_i64 or visit_f64 after the number's form.
        deserializer.deserialize_u64(NumericDateVisitor::<ROUND_UP>)
    }
}

/// `exp`: a fraction of a second is dropped, so the token expires no later than it says.
pub(crate) type Expiry = NumericDate<false>;
/// `nbf`: a fraction of a second is rounded up, so the token starts no earlier than it says.
pub(crate) type NotBefore = NumericDate<true>;
