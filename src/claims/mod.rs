//! The verified identity of a request ([`Claims`]: the token's claims and the token itself, one
//! shared value) and the raw token kept for forwarding ([`BearerToken`]), as
//! [`BearerAuthLayer`](crate::BearerAuthLayer) leaves them in the request extensions.

mod additional;
mod read;
mod serde;

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use http::HeaderValue;
use serde_json::Value;
use triomphe::{Arc, HeaderSlice};

pub(crate) use self::additional::Additional;
use self::additional::Entry;
pub use self::additional::{AdditionalClaims, ClaimValue};
#[cfg(fuzzing)]
pub(crate) use self::read::disagreement;
pub(crate) use self::read::{read_claims, string_array};
use self::serde::Field;
#[cfg(any(test, fuzzing))]
pub(crate) use self::serde::decode_claims;
use crate::AuthError;
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

/// The fixed-size part of [`Claims`]; the text (token, `sub`, `email`, `tenant`, then the
/// additional claims, in this order) follows it in the same allocation.
#[derive(Clone)]
struct Fields {
    role: Role,
    exp: u64,
    nbf: Option<u64>,
    access_groups: Vec<String>,
    /// Where each additional claim lies in the text (no allocation when there is none).
    additional: Vec<Entry>,
    /// Where the token, `sub`, `email` and `tenant` end in the text.
    token_end: usize,
    sub_end: usize,
    email_end: usize,
    tenant_end: usize,
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
    /// No two with the same name, none `null`.
    additional: Vec<Additional<'a>>,
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
        let tenant_end = email_end + self.tenant.len();
        SCRATCH.with_borrow_mut(|text| {
            text.clear();
            for piece in [token, &self.sub, &self.email, &self.tenant] {
                text.push_str(piece);
            }
            let fields = Fields {
                role: self.role,
                exp: self.exp,
                nbf: self.nbf,
                access_groups: self.access_groups,
                additional: self
                    .additional
                    .iter()
                    .map(|claim| claim.store(text))
                    .collect(),
                token_end,
                sub_end,
                email_end,
                tenant_end,
            };
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

    /// The additional claim `name` (an `aud` to check).
    pub(crate) fn additional(&self, name: &str) -> Option<ClaimValue<'_>> {
        self.additional
            .iter()
            .find(|claim| claim.name == name)
            .map(ClaimValue::of)
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
            additional: Vec::new(),
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
        &self.0.slice[self.fields().email_end..self.fields().tenant_end]
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
        self.to_set().into_claims(token)
    }

    /// These claims, borrowed, to build another identity from.
    fn to_set(&self) -> ClaimsSet<'_> {
        ClaimsSet {
            sub: Cow::Borrowed(self.sub()),
            email: Cow::Borrowed(self.email()),
            role: self.role().clone(),
            tenant: Cow::Borrowed(self.tenant()),
            access_groups: self.access_groups().to_vec(),
            exp: self.exp(),
            nbf: self.not_before(),
            additional: (self.fields().additional.iter())
                .map(|entry| Additional::of_entry(&self.0.slice, entry))
                .collect(),
        }
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

    /// Adds a claim outside the REGARDS identity (REGARDS' "additional params"), or replaces
    /// the one of the same name.
    ///
    /// A name the typed fields own (`sub`, `email`, `role`, `tenant`, `accessGroups`, `exp`,
    /// `nbf`) is ignored: those are set through the constructor.
    pub fn with_additional(self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        if Field::of(&name) != Field::Other {
            return self;
        }
        let claim = Additional::from_value(name, &value.into());
        let mut set = self.to_set();
        match set.additional.iter_mut().find(|old| old.name == claim.name) {
            Some(old) => *old = claim,
            None => set.additional.push(claim),
        }
        set.into_claims(self.token())
    }

    /// A claim outside the typed fields (`aud`, `iat`, REGARDS' additional params...), as the
    /// token wrote it: big integers keep every digit.
    ///
    /// ```
    /// # use regards_auth::{Claims, Role};
    /// let claims = Claims::new("a", "a", Role::Admin, "p", 1).with_additional("origin", "ui");
    /// assert_eq!(claims.additional("origin").and_then(|v| v.as_str()), Some("ui"));
    /// ```
    pub fn additional(&self, name: &str) -> Option<ClaimValue<'_>> {
        self.additional_claims().get(name)
    }

    /// All claims outside the typed fields, in the order the token lists them.
    pub fn additional_claims(&self) -> AdditionalClaims<'_> {
        AdditionalClaims::new(&self.0.slice, &self.fields().additional)
    }
}

impl PartialEq for Claims {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.fields(), other.fields());
        (a.role == b.role && a.exp == b.exp && a.nbf == b.nbf && a.access_groups == b.access_groups)
            && self.additional_claims() == other.additional_claims()
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
            .field("additional", &self.additional_claims())
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
/// Done before any base64 or cryptographic work on a token that is not of the usual shape (see
/// `Verifier::verify`): the size test is one comparison and the charset test a single pass
/// without early exit (the same cost for any token of a given length).
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
    ///
    /// # Errors
    ///
    /// [`AuthError::TokenTooLarge`] for a token longer than 8 KiB, and
    /// [`AuthError::MalformedToken`] for one that is empty or not RFC 6750 `b64token` syntax.
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
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: the token is `b64token` syntax (checked by `new`, or by the \
                  verification of the claims that hold it), all visible ASCII; `HeaderValue` has \
                  no infallible constructor without `unsafe`, and this runs on every request the \
                  client's `AttachToken` sends"
    )]
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

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    const VALID: &str =
        r#"{"tenant":"project1","role":"ADMIN","sub":"a@b.c","email":"a@b.c","exp":10}"#;

    /// The claims as the request path reads them, once the reference decoding is seen to give
    /// the same verdict.
    fn decode(json: &str) -> Result<Claims, AuthError> {
        let read = read_claims(json.as_bytes()).map(|set| set.into_claims(""));
        let reference = decode_claims(json.as_bytes()).map(|set| set.into_claims(""));
        assert_eq!(read.is_ok(), reference.is_ok(), "{json}");
        read
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
        assert_eq!(claims.additional("y").unwrap().json(), "[null]");
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
        assert_eq!(claims.additional("aud").unwrap().as_str(), Some("x"));
        assert_eq!(claims.additional("iat").unwrap().as_u64(), Some(3));
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
