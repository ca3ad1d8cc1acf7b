//! Claims through serde: decoding from any serde format (serde_json's decoding is the reference
//! the request path's [reader](super::read) is held to), and REGARDS' member order when
//! serializing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::{Additional, Claims, ClaimsSet};
use crate::json::{Expiry, NotBefore, Text};
use crate::role::Role;

/// The member names the typed fields own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Sub,
    Email,
    Role,
    Tenant,
    AccessGroups,
    Exp,
    Nbf,
    Other,
}

impl Field {
    pub(super) fn of(name: &str) -> Field {
        match name {
            "sub" => Field::Sub,
            "email" => Field::Email,
            "role" => Field::Role,
            "tenant" => Field::Tenant,
            "accessGroups" => Field::AccessGroups,
            "exp" => Field::Exp,
            "nbf" => Field::Nbf,
            _ => Field::Other,
        }
    }
}

fn required_text<'de, E: de::Error>(
    value: Option<Text<'de>>,
    name: &'static str,
) -> Result<Cow<'de, str>, E> {
    match value {
        None => Err(E::missing_field(name)),
        Some(Text(value)) if value.is_empty() => Err(E::invalid_value(
            de::Unexpected::Str(""),
            &"a non-empty string",
        )),
        Some(Text(value)) => Ok(value),
    }
}

fn set_once<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> de::Deserialize<'de> for ClaimsSet<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClaimsVisitor;

        impl<'de> Visitor<'de> for ClaimsVisitor {
            type Value = ClaimsSet<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of REGARDS claims")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClaimsSet<'de>, A::Error> {
                let mut sub: Option<Text<'de>> = None;
                let mut email: Option<Text<'de>> = None;
                let mut role: Option<Text<'de>> = None;
                let mut tenant: Option<Text<'de>> = None;
                // Optional members are `Option<Option<_>>`: seen (for duplicates), and null or not.
                let mut access_groups: Option<Option<Vec<String>>> = None;
                let mut exp: Option<Expiry> = None;
                let mut nbf: Option<Option<NotBefore>> = None;
                let mut additional = Map::new();
                let mut null_additional = false;
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    match Field::of(&name) {
                        Field::Sub => set_once(&mut sub, &mut map, "sub")?,
                        Field::Email => set_once(&mut email, &mut map, "email")?,
                        Field::Role => set_once(&mut role, &mut map, "role")?,
                        Field::Tenant => set_once(&mut tenant, &mut map, "tenant")?,
                        Field::AccessGroups => {
                            set_once(&mut access_groups, &mut map, "accessGroups")?
                        }
                        Field::Exp => set_once(&mut exp, &mut map, "exp")?,
                        Field::Nbf => set_once(&mut nbf, &mut map, "nbf")?,
                        Field::Other => {
                            let value: Value = map.next_value()?;
                            null_additional |= value.is_null();
                            // A null is kept until the end, so that a repeated name is caught.
                            if additional.insert(name.into_owned(), value).is_some() {
                                return Err(de::Error::custom("duplicate claim"));
                            }
                        }
                    }
                }
                if null_additional {
                    additional.retain(|_, value| !value.is_null());
                }
                let role = match role {
                    None => Err(de::Error::missing_field("role")),
                    Some(Text(role)) if !Role::is_role_name(&role) => Err(
                        de::Error::invalid_value(de::Unexpected::Str(""), &"a role name"),
                    ),
                    Some(Text(role)) => Ok(Role::from_name(&role)),
                };
                Ok(ClaimsSet {
                    sub: required_text(sub, "sub")?,
                    email: required_text(email, "email")?,
                    role: role?,
                    tenant: required_text(tenant, "tenant")?,
                    access_groups: access_groups.flatten().unwrap_or_default(),
                    exp: exp.ok_or_else(|| de::Error::missing_field("exp"))?.0,
                    nbf: nbf.flatten().map(|nbf| nbf.0),
                    // As serde_json writes them: a number beyond 64 bits was read as a double.
                    additional: additional
                        .into_iter()
                        .map(|(name, value)| Additional::from_value(name, &value))
                        .collect(),
                })
            }
        }

        deserializer.deserialize_map(ClaimsVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Claims {
    /// Claims without a token (see [`Claims::bearer_token`]), decoded as strictly as a
    /// verified token's. Additional claims go through `serde_json::Value`: a number beyond 64
    /// bits is kept as the double serde_json reads (a verified token keeps its exact text).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ClaimsSet::deserialize(deserializer).map(|set| set.into_claims(""))
    }
}

impl serde::Serialize for Claims {
    /// REGARDS' member order: `tenant`, `role`, `sub`, `email`, then `accessGroups` (when not
    /// empty), the additional claims (their JSON text as it is, into serde_json), `nbf` (when
    /// set) and `exp`. The token is not a claim.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("tenant", self.tenant())?;
        map.serialize_entry("role", self.role())?;
        map.serialize_entry("sub", self.sub())?;
        map.serialize_entry("email", self.email())?;
        if !self.access_groups().is_empty() {
            map.serialize_entry("accessGroups", self.access_groups())?;
        }
        for (name, value) in self.additional_claims().iter() {
            map.serialize_entry(name, &value)?;
        }
        if let Some(nbf) = self.not_before() {
            map.serialize_entry("nbf", &nbf)?;
        }
        map.serialize_entry("exp", &self.exp())?;
        map.end()
    }
}

/// The reference decoding: UTF-8, then serde_json into the typed claims (trailing data
/// refused). The request path reads claims with [`read_claims`](super::read::read_claims),
/// which the tests hold to this.
#[cfg(any(test, fuzzing))]
pub(crate) fn decode_claims(json: &[u8]) -> Result<ClaimsSet<'_>, crate::AuthError> {
    let json = std::str::from_utf8(json).map_err(|_| crate::AuthError::InvalidClaims)?;
    serde_json::from_str(json).map_err(|_| crate::AuthError::InvalidClaims)
}
