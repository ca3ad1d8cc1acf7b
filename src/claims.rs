//! The verified identity of a request ([`Claims`]: the token's claims and the token itself, one
//! shared value) and the raw token kept for forwarding ([`BearerToken`]), as
//! [`BearerAuthLayer`](crate::BearerAuthLayer) leaves them in the request extensions.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use http::HeaderValue;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};
use triomphe::{Arc, HeaderSlice};

use crate::AuthError;
use crate::json::{Expiry, NotBefore, Text};
use crate::role::Role;

/// `sub` of the anonymous identity REGARDS serves public requests with.
pub const PUBLIC_SUBJECT: &str = "public";
/// `email` of the anonymous identity REGARDS serves public requests with.
pub const PUBLIC_EMAIL: &str = "public@regards.com";

/// The verified identity of a request: the claims of its REGARDS token, and the token itself.
///
/// One shared value per request: verification builds it once, in a single allocation that
/// holds the claims and the token text; [`BearerAuthLayer`](crate::BearerAuthLayer) inserts it
/// as the one request extension; the verified-token cache keeps it and hands it out again;
/// [`RequireRoleLayer`](crate::RequireRoleLayer), the managed-access layer, the extractors and
/// the client's forwarding source read it. Cloning it increments a reference count.
///
/// In a handler, it is an axum extractor (`Option<Claims>` too) read through accessors:
///
/// ```
/// use regards_auth::{Claims, Role};
///
/// async fn import_rule(claims: Claims) -> String {
///     if claims.role() == &Role::ProjectAdmin {
///         format!("rule stored for project {} by {}", claims.tenant(), claims.sub())
///     } else {
///         String::new()
///     }
/// }
/// ```
///
/// Decoding is strict: the claims must be a JSON object; `sub`, `email`, `role` and `tenant`
/// must be present, non-empty strings; `exp` a non-negative number of seconds since the epoch
/// (RFC 7519's NumericDate: a fraction is dropped, so the token never lives longer than it
/// says); `nbf`, when present, too (a fraction rounded up); `accessGroups`, when present, an
/// array of strings. A duplicated member (even one of the two being `null`), a `null` required
/// member or a value of another type makes the whole token invalid. An optional member set to
/// `null` is absent, as REGARDS reads it: `accessGroups` is empty, `nbf` unset, and a `null`
/// additional claim is dropped. Any other member is kept and can be read with
/// [`Claims::additional`].
///
/// ```
/// use regards_auth::{Claims, Role};
///
/// let claims: Claims = serde_json::from_str(
///     r#"{"tenant":"project1","role":"ADMIN","sub":"jane@regards.fr",
///         "email":"jane@regards.fr","exp":4102444800,"accessGroups":["g1"]}"#,
/// ).unwrap();
/// assert_eq!(claims.role(), &Role::Admin);
/// assert_eq!(claims.access_groups(), ["g1"]);
/// assert!(claims.bearer_token().is_none(), "decoded from JSON, not verified from a token");
/// ```
///
/// Equality compares the claims, not the token they came with.
#[derive(Clone)]
pub struct Claims(Arc<HeaderSlice<Fields, str>>);

/// The fixed-size part of [`Claims`]; the text (token, `sub`, `email`, `tenant`, in this order)
/// follows it in the same allocation.
#[derive(Clone)]
struct Fields {
    role: Role,
    exp: u64,
    nbf: Option<u64>,
    access_groups: Vec<String>,
    additional: Map<String, Value>,
    /// Where the token, `sub` and `email` end in the text; `tenant` runs to its end.
    token_end: usize,
    sub_end: usize,
    email_end: usize,
}

/// A decoded claims set whose strings may still borrow from the JSON text: what verification
/// turns into [`Claims`] once the token is known to be valid.
pub(crate) struct ClaimsSet<'a> {
    sub: Cow<'a, str>,
    email: Cow<'a, str>,
    role: Role,
    tenant: Cow<'a, str>,
    access_groups: Vec<String>,
    exp: u64,
    nbf: Option<u64>,
    additional: Map<String, Value>,
}

/// Scratch text kept larger than this is given back after use.
const SCRATCH_KEPT: usize = 2 * MAX_TOKEN_LEN;

thread_local! {
    /// Where the text of a new [`Claims`] is assembled before it is copied, whole, into the
    /// shared allocation: a per-thread buffer, so that building an identity allocates once.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

impl ClaimsSet<'_> {
    /// The shared identity of these claims, verified from `token` (empty when there is none).
    pub(crate) fn into_claims(self, token: &str) -> Claims {
        let token_end = token.len();
        let sub_end = token_end + self.sub.len();
        let email_end = sub_end + self.email.len();
        let fields = Fields {
            role: self.role,
            exp: self.exp,
            nbf: self.nbf,
            access_groups: self.access_groups,
            additional: self.additional,
            token_end,
            sub_end,
            email_end,
        };
        SCRATCH.with_borrow_mut(|text| {
            text.clear();
            for piece in [token, &self.sub, &self.email, &self.tenant] {
                text.push_str(piece);
            }
            let claims = Claims(Arc::from_header_and_str(fields, text));
            if text.capacity() > SCRATCH_KEPT {
                *text = String::new();
            }
            claims
        })
    }

    pub(crate) fn exp(&self) -> u64 {
        self.exp
    }

    pub(crate) fn not_before(&self) -> Option<u64> {
        self.nbf
    }

    pub(crate) fn additional(&self, name: &str) -> Option<&Value> {
        self.additional.get(name)
    }
}

impl Claims {
    /// Claims with the four REGARDS identity members and an expiry; no access groups, no token.
    ///
    /// ```
    /// use regards_auth::{Claims, Role};
    /// let claims = Claims::new("jane@regards.fr", "jane@regards.fr", Role::Admin, "project1", 4102444800);
    /// assert_eq!(claims.tenant(), "project1");
    /// ```
    pub fn new(
        sub: impl AsRef<str>,
        email: impl AsRef<str>,
        role: Role,
        tenant: impl AsRef<str>,
        exp: u64,
    ) -> Self {
        ClaimsSet {
            sub: Cow::Borrowed(sub.as_ref()),
            email: Cow::Borrowed(email.as_ref()),
            role,
            tenant: Cow::Borrowed(tenant.as_ref()),
            access_groups: Vec::new(),
            exp,
            nbf: None,
            additional: Map::new(),
        }
        .into_claims("")
    }

    /// The anonymous identity REGARDS gives a public request on `tenant`: `sub` `"public"`,
    /// `email` `"public@regards.com"`, role PUBLIC, `exp` 0, no token.
    pub fn public(tenant: impl AsRef<str>) -> Self {
        Claims::new(PUBLIC_SUBJECT, PUBLIC_EMAIL, Role::Public, tenant, 0)
    }

    fn fields(&self) -> &Fields {
        &self.0.header
    }

    /// The fields, unshared first if another clone holds them (builders only).
    fn fields_mut(&mut self) -> &mut Fields {
        if !self.0.is_unique() {
            self.0 = Arc::from_header_and_str(self.0.header.clone(), &self.0.slice);
        }
        &mut Arc::get_mut(&mut self.0)
            .expect("a unique Arc is mutable")
            .header
    }

    /// `sub`: the user's login (an e-mail address for REGARDS users, the application name for
    /// system tokens).
    pub fn sub(&self) -> &str {
        &self.0.slice[self.fields().token_end..self.fields().sub_end]
    }

    /// `email`: the user's e-mail address.
    pub fn email(&self) -> &str {
        &self.0.slice[self.fields().sub_end..self.fields().email_end]
    }

    /// `role`: the user's role on [`tenant`](Self::tenant).
    pub fn role(&self) -> &Role {
        &self.fields().role
    }

    /// `tenant`: the REGARDS project the token is valid for.
    pub fn tenant(&self) -> &str {
        &self.0.slice[self.fields().email_end..]
    }

    /// `accessGroups`: the user's access groups (empty when the claim is absent).
    pub fn access_groups(&self) -> &[String] {
        &self.fields().access_groups
    }

    /// `exp`: expiry, in seconds since the Unix epoch. `0` for the anonymous identity, which
    /// comes from no token.
    pub fn exp(&self) -> u64 {
        self.fields().exp
    }

    /// `nbf`: not-before, in seconds since the Unix epoch, when the token has one.
    pub fn not_before(&self) -> Option<u64> {
        self.fields().nbf
    }

    /// Whether these are the anonymous identity of a public request (no token was sent).
    pub fn is_anonymous(&self) -> bool {
        self.exp() == 0 && self.role() == &Role::Public && self.sub() == PUBLIC_SUBJECT
    }

    /// The token these claims were verified from, to forward it (see
    /// [`ForwardedToken`](crate::client::ForwardedToken) with the `client` feature). `None`
    /// for the anonymous identity and for claims built or decoded without a token. It shares
    /// this value: no copy.
    ///
    /// ```
    /// use regards_auth::{Role, TokenIssuer, Verifier, REGARDS_DEVELOPMENT_KEY};
    ///
    /// let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
    /// let token = TokenIssuer::development().mint("jane@regards.fr", Role::Admin, "project1");
    /// let claims = verifier.verify(&token).unwrap();
    /// assert_eq!(claims.bearer_token().unwrap().as_str(), token);
    /// # Ok::<(), regards_auth::ConfigError>(())
    /// ```
    pub fn bearer_token(&self) -> Option<BearerToken> {
        (self.fields().token_end > 0).then(|| BearerToken(TokenText::Verified(self.clone())))
    }

    /// The token text (empty without a token).
    pub(crate) fn token(&self) -> &str {
        &self.0.slice[..self.fields().token_end]
    }

    /// Whether `other` is a clone of this value (the same allocation).
    #[cfg(test)]
    pub(crate) fn shares(&self, other: &Claims) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The same claims, verified from `token`.
    #[cfg(test)]
    pub(crate) fn with_token(&self, token: &str) -> Claims {
        ClaimsSet {
            sub: Cow::Borrowed(self.sub()),
            email: Cow::Borrowed(self.email()),
            role: self.role().clone(),
            tenant: Cow::Borrowed(self.tenant()),
            access_groups: self.access_groups().to_vec(),
            exp: self.exp(),
            nbf: self.not_before(),
            additional: self.additional_claims().clone(),
        }
        .into_claims(token)
    }

    /// Sets the access groups.
    pub fn with_access_groups<I, G>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = G>,
        G: Into<String>,
    {
        self.fields_mut().access_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a claim outside the REGARDS identity (REGARDS' "additional params").
    ///
    /// A name the typed fields own (`sub`, `email`, `role`, `tenant`, `accessGroups`, `exp`,
    /// `nbf`) is ignored: those are set through the constructor.
    pub fn with_additional(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        if Field::of(&name) == Field::Other {
            self.fields_mut().additional.insert(name, value.into());
        }
        self
    }

    /// A claim outside the typed fields (`aud`, `iat`, REGARDS' additional params...).
    ///
    /// ```
    /// # use regards_auth::{Claims, Role};
    /// let claims = Claims::new("a", "a", Role::Admin, "p", 1).with_additional("origin", "ui");
    /// assert_eq!(claims.additional("origin").and_then(|v| v.as_str()), Some("ui"));
    /// ```
    pub fn additional(&self, name: &str) -> Option<&Value> {
        self.fields().additional.get(name)
    }

    /// All claims outside the typed fields.
    pub fn additional_claims(&self) -> &Map<String, Value> {
        &self.fields().additional
    }
}

impl PartialEq for Claims {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.fields(), other.fields());
        (a.role == b.role
            && a.exp == b.exp
            && a.nbf == b.nbf
            && a.access_groups == b.access_groups
            && a.additional == b.additional)
            && (self.sub(), self.email(), self.tenant())
                == (other.sub(), other.email(), other.tenant())
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.sub())
            .field("email", &self.email())
            .field("role", self.role())
            .field("tenant", &self.tenant())
            .field("access_groups", &self.access_groups())
            .field("exp", &self.exp())
            .field("nbf", &self.not_before())
            .field("additional", self.additional_claims())
            .field(
                "token",
                &if self.token().is_empty() {
                    "none"
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

/// The member names the typed fields own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
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
    fn of(name: &str) -> Field {
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
                // Strings are borrowed from the JSON text when they have no escapes: they are
                // copied once, into the shared identity.
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
                // The role is read from the borrowed text: native roles cost no allocation.
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
                    additional,
                })
            }
        }

        deserializer.deserialize_map(ClaimsVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Claims {
    /// Claims without a token (see [`Claims::bearer_token`]), decoded as strictly as a
    /// verified token's.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ClaimsSet::deserialize(deserializer).map(|set| set.into_claims(""))
    }
}

impl serde::Serialize for Claims {
    /// REGARDS' member order: `tenant`, `role`, `sub`, `email`, then `accessGroups` (when not
    /// empty), the additional claims, `nbf` (when set) and `exp`. The token is not a claim.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("tenant", self.tenant())?;
        map.serialize_entry("role", self.role())?;
        map.serialize_entry("sub", self.sub())?;
        map.serialize_entry("email", self.email())?;
        if !self.access_groups().is_empty() {
            map.serialize_entry("accessGroups", self.access_groups())?;
        }
        for (name, value) in self.additional_claims() {
            map.serialize_entry(name, value)?;
        }
        if let Some(nbf) = self.not_before() {
            map.serialize_entry("nbf", &nbf)?;
        }
        map.serialize_entry("exp", &self.exp())?;
        map.end()
    }
}

/// The largest token accepted, in bytes. Longer credentials are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Whether `byte` belongs to RFC 6750's `b64token` charset (without the trailing `=`).
///
/// Written without branches so that [`check_token_syntax`] compiles to a vectorized scan.
const fn is_b64token_byte(byte: u8) -> bool {
    let folded = byte | 0x20;
    (folded.wrapping_sub(b'a') < 26)
        | (byte.wrapping_sub(b'0') < 10)
        | (byte == b'-')
        | (byte == b'.')
        | (byte == b'_')
        | (byte == b'~')
        | (byte == b'+')
        | (byte == b'/')
}

/// Checks the size cap and RFC 6750's `b64token` syntax:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
///
/// This is the first thing done with a token that is not in the verified-token cache, before
/// any base64 or cryptographic work: the size test is one comparison and the charset test a
/// single pass without early exit (the same cost for any token of a given length).
pub(crate) fn check_token_syntax(token: &[u8]) -> Result<(), AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::TokenTooLarge);
    }
    let body_len = token.len() - token.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &token[..body_len];
    if body.is_empty() || !body.iter().fold(true, |ok, &b| ok & is_b64token_byte(b)) {
        return Err(AuthError::MalformedToken);
    }
    Ok(())
}

/// The bearer token a request was authenticated with, kept so that a service can forward the
/// caller's own token to the REGARDS services it calls (REGARDS' default behaviour).
///
/// An axum extractor (the token of the request's [`Claims`]), also read from the claims with
/// [`Claims::bearer_token`]; cheap to clone. It never prints its value in `Debug`.
///
/// ```
/// use regards_auth::BearerToken;
/// let token = BearerToken::new("eyJhbGciOiJIUzUxMiJ9.e30.c2ln").unwrap();
/// assert_eq!(token.as_str(), "eyJhbGciOiJIUzUxMiJ9.e30.c2ln");
/// assert_eq!(token.to_header_value().to_str().unwrap(), "Bearer eyJhbGciOiJIUzUxMiJ9.e30.c2ln");
/// assert!(BearerToken::new("not a token").is_err());
/// ```
#[derive(Clone)]
pub struct BearerToken(TokenText);

#[derive(Clone)]
enum TokenText {
    /// A token given as text, checked for syntax only.
    Given(std::sync::Arc<str>),
    /// The token a [`Claims`] was verified from, shared with it.
    Verified(Claims),
}

impl BearerToken {
    /// A token from its text, checked for RFC 6750 syntax and the size cap (not verified).
    pub fn new(token: &str) -> Result<Self, AuthError> {
        check_token_syntax(token.as_bytes())?;
        Ok(BearerToken(TokenText::Given(token.into())))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            TokenText::Given(token) => token,
            TokenText::Verified(claims) => claims.token(),
        }
    }

    /// `Bearer <token>`, marked sensitive, ready for an outgoing `Authorization` header.
    pub fn to_header_value(&self) -> HeaderValue {
        let mut value = Vec::with_capacity(7 + self.as_str().len());
        value.extend_from_slice(b"Bearer ");
        value.extend_from_slice(self.as_str().as_bytes());
        let mut value =
            HeaderValue::from_bytes(&value).expect("a checked token is a valid header value");
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl PartialEq for BearerToken {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for BearerToken {}

/// Decodes a claims set (trailing data refused), mapping every failure to
/// [`AuthError::InvalidClaims`]. Its strings borrow from `json` where they can.
pub(crate) fn decode_claims(json: &[u8]) -> Result<ClaimsSet<'_>, AuthError> {
    // One UTF-8 check of the whole text (JSON is UTF-8) instead of one per string member.
    let json = std::str::from_utf8(json).map_err(|_| AuthError::InvalidClaims)?;
    serde_json::from_str(json).map_err(|_| AuthError::InvalidClaims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str =
        r#"{"tenant":"project1","role":"ADMIN","sub":"a@b.c","email":"a@b.c","exp":10}"#;

    fn decode(json: &str) -> Result<Claims, AuthError> {
        decode_claims(json.as_bytes()).map(|set| set.into_claims(""))
    }

    fn with(member: &str) -> String {
        format!("{},{member}}}", &VALID[..VALID.len() - 1])
    }

    fn without(name: &str) -> String {
        let mut value: Map<String, Value> = serde_json::from_str(VALID).unwrap();
        value.remove(name);
        serde_json::to_string(&value).unwrap()
    }

    #[test]
    fn regards_claims_decode() {
        let claims = decode(VALID).unwrap();
        assert_eq!(claims.sub(), "a@b.c");
        assert_eq!(claims.role(), &Role::Admin);
        assert_eq!(claims.exp(), 10);
        assert!(claims.access_groups().is_empty());
        assert!(claims.additional_claims().is_empty());
    }

    #[test]
    fn each_required_claim_must_be_present() {
        for name in ["sub", "email", "role", "tenant", "exp"] {
            assert_eq!(
                decode(&without(name)),
                Err(AuthError::InvalidClaims),
                "{name}"
            );
        }
    }

    #[test]
    fn required_strings_must_not_be_empty_null_or_other_types() {
        for name in ["sub", "email", "role", "tenant"] {
            for bad in [r#""""#, "null", "1", "[]", "{}", "true"] {
                let json = without(name);
                let json = format!("{},\"{name}\":{bad}}}", &json[..json.len() - 1]);
                assert_eq!(
                    decode(&json),
                    Err(AuthError::InvalidClaims),
                    "{name}: {bad}"
                );
            }
        }
    }

    #[test]
    fn fractional_exp_is_rounded_down_and_nbf_up() {
        for (exp, nbf, expected) in [
            ("10.9", "10.1", (10, 11)),
            ("10.0", "10.0", (10, 10)),
            ("1.7958e9", "1e3", (1_795_800_000, 1000)),
            ("17958e5", "5e-1", (1_795_800_000, 1)),
            ("4102444800.5", "0.0", (4_102_444_800, 0)),
            ("-0", "-0.0", (0, 0)),
            (
                "18446744073709549568.0",
                "0.000001",
                (18_446_744_073_709_549_568, 1),
            ),
        ] {
            let json =
                with(&format!(r#""nbf":{nbf}"#)).replace(r#""exp":10"#, &format!(r#""exp":{exp}"#));
            let claims = decode(&json).unwrap();
            assert_eq!(
                (claims.exp(), claims.not_before().unwrap()),
                expected,
                "{json}"
            );
        }
    }

    #[test]
    fn nbf_must_be_a_non_negative_number_within_u64() {
        for bad in [
            "-0.5",
            "-1e-9",
            "-1",
            r#""1""#,
            "18446744073709551615.5",
            "true",
        ] {
            let json = with(&format!(r#""nbf":{bad}"#));
            assert_eq!(decode(&json), Err(AuthError::InvalidClaims), "{bad}");
        }
    }

    #[test]
    fn exp_must_be_a_non_negative_number_within_u64() {
        for bad in [
            r#""10""#,
            r#""10.5""#,
            "-1",
            "-0.5",
            "-1e-9",
            "null",
            "true",
            "NaN",
            "Infinity",
            "1e400",
            "18446744073709551616",
            "18446744073709551615.5",
            "1.8446744073709552e19",
        ] {
            let json = without("exp");
            let json = format!("{},\"exp\":{bad}}}", &json[..json.len() - 1]);
            assert_eq!(decode(&json), Err(AuthError::InvalidClaims), "{bad}");
        }
    }

    #[test]
    fn duplicate_members_are_refused() {
        assert_eq!(
            decode(&with(r#""role":"PUBLIC""#)),
            Err(AuthError::InvalidClaims)
        );
        assert_eq!(decode(&with(r#""exp":99"#)), Err(AuthError::InvalidClaims));
        assert_eq!(
            decode(&with(r#""x":1,"x":2"#)),
            Err(AuthError::InvalidClaims)
        );
    }

    #[test]
    fn escaped_duplicate_member_is_refused() {
        assert_eq!(
            decode(&with(r#""\u0072ole":"PUBLIC""#)),
            Err(AuthError::InvalidClaims)
        );
    }

    #[test]
    fn claims_must_be_an_object() {
        for bad in [
            "[]",
            r#""claims""#,
            "1",
            "null",
            r#"["a","a","ADMIN","p",1]"#,
        ] {
            assert_eq!(decode(bad), Err(AuthError::InvalidClaims), "{bad}");
        }
    }

    #[test]
    fn trailing_data_is_refused() {
        assert_eq!(decode(&format!("{VALID} x")), Err(AuthError::InvalidClaims));
    }

    #[test]
    fn access_groups_must_be_strings() {
        assert_eq!(
            decode(&with(r#""accessGroups":["g1","g2"]"#))
                .unwrap()
                .access_groups(),
            ["g1", "g2"]
        );
        for bad in [r#""g1""#, r#"["g1",2]"#, r#"["g1",null]"#, "{}"] {
            let json = with(&format!(r#""accessGroups":{bad}"#));
            assert_eq!(decode(&json), Err(AuthError::InvalidClaims), "{bad}");
        }
    }

    #[test]
    fn null_optional_members_are_absent() {
        let claims = decode(&with(
            r#""accessGroups":null,"nbf":null,"x":null,"y":[null]"#,
        ))
        .unwrap();
        assert!(claims.access_groups().is_empty());
        assert_eq!(claims.not_before(), None);
        assert_eq!(claims.additional("x"), None);
        assert_eq!(claims.additional("y"), Some(&serde_json::json!([null])));
        assert_eq!(claims.additional_claims().len(), 1);
    }

    #[test]
    fn duplicate_members_are_refused_when_one_is_null() {
        for (name, value) in [("accessGroups", r#"["g"]"#), ("nbf", "1"), ("x", "1")] {
            for (first, second) in [("null", value), (value, "null"), ("null", "null")] {
                let json = with(&format!(r#""{name}":{first},"{name}":{second}"#));
                assert_eq!(decode(&json), Err(AuthError::InvalidClaims), "{json}");
            }
        }
    }

    #[test]
    fn other_members_are_kept() {
        let claims = decode(&with(r#""aud":"x","iat":3"#)).unwrap();
        assert_eq!(claims.additional("aud"), Some(&Value::from("x")));
        assert_eq!(claims.additional("iat"), Some(&Value::from(3)));
    }

    #[test]
    fn serialization_round_trips() {
        let claims = Claims::new("s", "e", Role::System("app".into()), "t", 5)
            .with_access_groups(["g"])
            .with_additional("origin", "ui");
        let json = serde_json::to_string(&claims).unwrap();
        assert!(json.starts_with(r#"{"tenant":"t","role":"ROLE_SYS_app","sub":"s","email":"e""#));
        assert_eq!(decode(&json).unwrap(), claims);
    }

    #[test]
    fn typed_names_cannot_be_added_as_additional() {
        let claims = Claims::new("s", "e", Role::Admin, "t", 5).with_additional("role", "PUBLIC");
        assert!(claims.additional_claims().is_empty());
    }

    #[test]
    fn token_syntax_is_b64token() {
        assert_eq!(check_token_syntax(b"abc.DEF-_~+/=="), Ok(()));
        for bad in [
            &b""[..],
            b"=",
            b"a b",
            b"a=b",
            b"a\tb",
            b"\xc3\xa9",
            b"a,b",
            b"a\"b",
        ] {
            assert_eq!(
                check_token_syntax(bad),
                Err(AuthError::MalformedToken),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn token_over_the_cap_is_too_large() {
        assert_eq!(check_token_syntax(&[b'a'; MAX_TOKEN_LEN]), Ok(()));
        assert_eq!(
            check_token_syntax(&[b'a'; MAX_TOKEN_LEN + 1]),
            Err(AuthError::TokenTooLarge)
        );
    }

    #[test]
    fn a_clone_shares_the_identity() {
        let claims = decode(VALID).unwrap().with_token("a.b.c");
        let clone = claims.clone();
        assert!(clone.shares(&claims));
        assert_eq!(clone.bearer_token().unwrap().as_str(), "a.b.c");
    }

    #[test]
    fn builders_leave_other_clones_unchanged() {
        let claims = decode(VALID).unwrap();
        let clone = claims.clone();
        let grouped = claims.with_access_groups(["g"]).with_additional("x", 1);
        assert_eq!(grouped.access_groups(), ["g"]);
        assert!(clone.access_groups().is_empty());
        assert!(clone.additional_claims().is_empty());
        assert_eq!(grouped.tenant(), clone.tenant());
    }

    #[test]
    fn escaped_strings_are_read_unescaped() {
        let json = VALID.replace(r#""sub":"a@b.c""#, r#""sub":"\u00e9t\u00e9""#);
        let claims = decode(&json).unwrap();
        assert_eq!(
            (claims.sub(), claims.email(), claims.tenant()),
            ("été", "a@b.c", "project1")
        );
    }

    #[test]
    fn claims_without_a_token_have_none() {
        assert!(decode(VALID).unwrap().bearer_token().is_none());
        assert!(Claims::public("p").bearer_token().is_none());
        assert!(Claims::public("p").is_anonymous());
    }

    #[test]
    fn claims_debug_redacts_the_token() {
        let claims = decode(VALID).unwrap().with_token("secret.token.value");
        let debug = format!("{claims:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains(r#"tenant: "project1""#), "{debug}");
    }

    #[test]
    fn bearer_token_debug_is_redacted() {
        let token = BearerToken::new("secret.token.value").unwrap();
        assert_eq!(format!("{token:?}"), "BearerToken(<redacted>)");
        assert!(token.to_header_value().is_sensitive());
    }
}
