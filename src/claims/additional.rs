//! The claims outside REGARDS' identity members ([`AdditionalClaims`]), each kept as its exact
//! JSON text ([`ClaimValue`]): a big integer stays the integer the token wrote.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::ser::{Error as _, Serialize, Serializer};
use serde_json::value::RawValue;

/// A claim outside the typed fields of [`Claims`](crate::Claims), as the token wrote it: its
/// exact JSON text, read on demand.
///
/// Numbers keep every digit (`123456789012345678901234567890` stays that integer, where a
/// double would round it); [`as_str`](Self::as_str) gives a string's value with its escapes
/// resolved; [`deserialize`](Self::deserialize) reads the text into any serde type.
///
/// ```
/// use regards_auth::{Claims, Role};
///
/// let claims: Claims = serde_json::from_str(
///     r#"{"tenant":"p","role":"ADMIN","sub":"a","email":"a","exp":1,"origin":"ui","n":[1,2]}"#,
/// ).unwrap();
/// assert_eq!(claims.additional("origin").unwrap().as_str(), Some("ui"));
/// let n: Vec<u8> = claims.additional("n").unwrap().deserialize().unwrap();
/// assert_eq!(n, [1, 2]);
/// ```
#[derive(Clone, Copy)]
pub struct ClaimValue<'a> {
    json: &'a str,
    /// A string's value (escapes resolved).
    string: Option<&'a str>,
}

impl<'a> ClaimValue<'a> {
    pub(super) fn of(claim: &'a Additional<'_>) -> Self {
        ClaimValue {
            json: &claim.json,
            string: claim.string.as_deref(),
        }
    }

    /// The value's JSON text, exactly as the token wrote it (for claims added with
    /// [`Claims::with_additional`](crate::Claims::with_additional) or decoded through serde,
    /// as serde_json writes the value).
    pub fn json(self) -> &'a str {
        self.json
    }

    /// A JSON string's value, escapes resolved; `None` for any other value.
    pub fn as_str(self) -> Option<&'a str> {
        self.string
    }

    /// Whether the value is `null` (never for a claim read from a token: a `null` claim is
    /// absent).
    pub fn is_null(self) -> bool {
        self.json == "null"
    }

    /// A JSON `true` or `false`.
    pub fn as_bool(self) -> Option<bool> {
        match self.json {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// A number written as an integer (no fraction, no exponent) that fits `u64`.
    pub fn as_u64(self) -> Option<u64> {
        self.json.parse().ok()
    }

    /// A number written as an integer (no fraction, no exponent) that fits `i64`.
    pub fn as_i64(self) -> Option<i64> {
        self.json.parse().ok()
    }

    /// A number, as the nearest double.
    pub fn as_f64(self) -> Option<f64> {
        let is_number = self
            .json
            .starts_with(|first: char| first == '-' || first.is_ascii_digit());
        is_number.then(|| self.json.parse().ok()).flatten()
    }

    /// The value read into `T` by serde_json (into a `serde_json::Value`, numbers beyond 64
    /// bits become doubles).
    ///
    /// # Errors
    ///
    /// The [`serde_json::Error`] of reading the value into `T` (the text itself is always valid
    /// JSON): a value `T` does not accept (a string for a number, a missing field...), a `&str`
    /// asked of a string with escapes (it cannot be borrowed: ask for a `String`), or, for a
    /// value added with [`Claims::with_additional`](crate::Claims::with_additional), arrays or
    /// objects nested beyond serde_json's recursion limit.
    pub fn deserialize<T: serde::Deserialize<'a>>(self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.json)
    }
}

impl PartialEq for ClaimValue<'_> {
    /// The same JSON text; strings compare by value, whatever their escapes.
    fn eq(&self, other: &Self) -> bool {
        match (self.string, other.string) {
            (Some(a), Some(b)) => a == b,
            _ => self.json == other.json,
        }
    }
}

impl Eq for ClaimValue<'_> {}

impl fmt::Debug for ClaimValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json)
    }
}

impl fmt::Display for ClaimValue<'_> {
    /// The JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json)
    }
}

impl Serialize for ClaimValue<'_> {
    /// The JSON text as it is, numbers included, into serde_json's output (through
    /// `RawValue`); other serializers receive what serde_json reads it as.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(self.json).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// The claims of a [`Claims`](crate::Claims) outside its typed fields, in the order the token
/// lists them ([`Claims::additional_claims`](crate::Claims::additional_claims)).
///
/// ```
/// use regards_auth::Claims;
///
/// let claims: Claims = serde_json::from_str(
///     r#"{"tenant":"p","role":"ADMIN","sub":"a","email":"a","exp":1,"iat":0,"jti":"x"}"#,
/// ).unwrap();
/// let names: Vec<&str> = claims.additional_claims().names().collect();
/// assert_eq!(names, ["iat", "jti"]);
/// ```
#[derive(Clone, Copy)]
pub struct AdditionalClaims<'a> {
    text: &'a str,
    entries: &'a [Entry],
}

impl<'a> AdditionalClaims<'a> {
    pub(super) fn new(text: &'a str, entries: &'a [Entry]) -> Self {
        AdditionalClaims { text, entries }
    }

    /// How many there are.
    pub fn len(self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.entries.is_empty()
    }

    /// The claim named `name`.
    pub fn get(self, name: &str) -> Option<ClaimValue<'a>> {
        self.iter()
            .find(|&(claim, _)| claim == name)
            .map(|(_, value)| value)
    }

    /// Names and values.
    pub fn iter(self) -> impl Iterator<Item = (&'a str, ClaimValue<'a>)> + 'a {
        let text = self.text;
        self.entries.iter().map(move |entry| {
            let value = ClaimValue {
                json: &text[entry.json.clone()],
                string: entry.string.clone().map(|string| &text[string]),
            };
            (&text[entry.name.clone()], value)
        })
    }

    /// The names.
    pub fn names(self) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().map(|(name, _)| name)
    }

    /// The values.
    pub fn values(self) -> impl Iterator<Item = ClaimValue<'a>> + 'a {
        self.iter().map(|(_, value)| value)
    }
}

impl PartialEq for AdditionalClaims<'_> {
    /// The same names with the same values, in any order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(name, value)| other.get(name) == Some(value))
    }
}

impl fmt::Debug for AdditionalClaims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Where a claim's name, JSON text and (for a string with escapes) value lie in the text of
/// its [`Claims`](crate::Claims).
#[derive(Debug, Clone)]
pub(super) struct Entry {
    name: Range<usize>,
    json: Range<usize>,
    string: Option<Range<usize>>,
}

/// An additional claim as a reader found it; its strings may borrow from the claims' JSON.
#[derive(Debug, Clone)]
pub(crate) struct Additional<'a> {
    pub(crate) name: Cow<'a, str>,
    /// Its JSON text.
    pub(crate) json: Cow<'a, str>,
    /// A string's value (escapes resolved).
    pub(crate) string: Option<Cow<'a, str>>,
}

impl Additional<'_> {
    pub(crate) fn is_null(&self) -> bool {
        self.json == "null"
    }

    /// Appends the claim to `text` and says where its parts went. A string's value is written
    /// apart only when it differs from the text between its quotes (when it has escapes, which
    /// always take more bytes than what they stand for).
    pub(super) fn store(&self, text: &mut String) -> Entry {
        let mut push = |piece: &str| {
            let start = text.len();
            text.push_str(piece);
            start..text.len()
        };
        let name = push(&self.name);
        let json = push(&self.json);
        let string = self.string.as_deref().map(|string| {
            if string.len() + 2 == json.len() {
                json.start + 1..json.end - 1
            } else {
                push(string)
            }
        });
        Entry { name, json, string }
    }

    /// The claim `name` with the value `value`, as serde_json writes it.
    pub(crate) fn from_value(name: String, value: &serde_json::Value) -> Additional<'static> {
        Additional {
            name: Cow::Owned(name),
            json: Cow::Owned(value.to_string()),
            string: value.as_str().map(|string| Cow::Owned(string.to_owned())),
        }
    }

    /// A borrowed copy of an entry of `text`.
    pub(super) fn of_entry<'t>(text: &'t str, entry: &Entry) -> Additional<'t> {
        Additional {
            name: Cow::Borrowed(&text[entry.name.clone()]),
            json: Cow::Borrowed(&text[entry.json.clone()]),
            string: entry
                .string
                .clone()
                .map(|string| Cow::Borrowed(&text[string])),
        }
    }
}
