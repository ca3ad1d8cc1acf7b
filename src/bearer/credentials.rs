//! Reading credentials and the requested tenant from a request, per RFC 6750 and RFC 9110.

use std::borrow::Cow;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::AuthError;

/// The name of the header, and of the query parameter, that names the requested tenant.
pub(crate) const SCOPE: &str = "scope";
/// RFC 6750 §2.3's query parameter (refused: tokens travel in the header only).
const ACCESS_TOKEN: &str = "access_token";
/// The `scope` header, named once (a `&str` name would be parsed on every lookup).
const SCOPE_HEADER: HeaderName = HeaderName::from_static(SCOPE);
/// The longest tenant name accepted in `scope`.
const MAX_SCOPE_LEN: usize = 256;

/// What a request presents.
#[derive(Debug)]
pub(crate) struct Credentials<'r> {
    /// The `Authorization` value carrying a Bearer token, and where the token starts in it.
    pub(crate) bearer: Option<(&'r HeaderValue, usize)>,
    /// The tenant the request names, from the `scope` header or query parameter.
    pub(crate) scope: Option<Cow<'r, str>>,
}

/// Reads the credentials: at most one `Authorization` header, no `access_token` parameter, at
/// most one (consistent) `scope`.
pub(crate) fn read<'r>(headers: &'r HeaderMap, uri: &'r Uri) -> Result<Credentials<'r>, AuthError> {
    let mut authorizations = headers.get_all(AUTHORIZATION).iter();
    let authorization = authorizations.next();
    if authorizations.next().is_some() {
        return Err(AuthError::MultipleCredentials);
    }

    let query = QueryParams::read(uri.query().unwrap_or_default());
    if query.has_access_token {
        return Err(if authorization.is_some() {
            AuthError::MultipleCredentials
        } else {
            AuthError::TokenInQuery
        });
    }
    let scope = requested_scope(headers, query.scope?)?;

    let bearer = match authorization {
        Some(value) => bearer_token_start(value.as_bytes())?.map(|start| (value, start)),
        None => None,
    };
    Ok(Credentials { bearer, scope })
}

/// Where the token starts in an `Authorization` value, if its scheme is `Bearer`
/// (case-insensitive). `Ok(None)` for other schemes: they are no Bearer credentials.
///
/// RFC 9110 §11.4: `credentials = auth-scheme [ 1*SP ( token68 / ... ) ]`. RFC 6750 §2.1 narrows
/// the token to `b64token`: the verifier checks that (with the size cap) first, unless the
/// token is one its cache holds.
pub(crate) fn bearer_token_start(value: &[u8]) -> Result<Option<usize>, AuthError> {
    const SCHEME: &[u8] = b"bearer";
    let (scheme, after) = value.split_at(value.len().min(SCHEME.len()));
    let is_bearer =
        scheme.eq_ignore_ascii_case(SCHEME) && matches!(after.first(), None | Some(b' ' | b'\t'));
    if !is_bearer {
        return Ok(None);
    }
    let spaces = after.iter().take_while(|&&b| b == b' ').count();
    if spaces == 0 {
        // "Bearer" alone, or followed by a tab: a Bearer attempt without a usable token.
        return Err(AuthError::MalformedToken);
    }
    Ok(Some(SCHEME.len() + spaces))
}

struct QueryParams<'q> {
    has_access_token: bool,
    scope: Result<Option<Cow<'q, str>>, AuthError>,
}

impl<'q> QueryParams<'q> {
    fn read(query: &'q str) -> Self {
        let mut params = QueryParams {
            has_access_token: false,
            scope: Ok(None),
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                ACCESS_TOKEN => params.has_access_token = true,
                SCOPE => {
                    params.scope = match params.scope {
                        Ok(None) => Ok(Some(value)),
                        _ => Err(AuthError::InvalidScope),
                    }
                }
                _ => {}
            }
        }
        params
    }
}

/// The tenant named by the `scope` header and/or query parameter: each at most once, equal
/// when both are given, a printable ASCII word.
fn requested_scope<'r>(
    headers: &'r HeaderMap,
    from_query: Option<Cow<'r, str>>,
) -> Result<Option<Cow<'r, str>>, AuthError> {
    let mut values = headers.get_all(&SCOPE_HEADER).iter();
    let from_header = values.next();
    if values.next().is_some() {
        return Err(AuthError::InvalidScope);
    }
    let from_header = from_header
        .map(|value| value.to_str().map_err(|_| AuthError::InvalidScope))
        .transpose()?;
    let scope = match (from_header, from_query) {
        (Some(header), Some(query)) if header != query => return Err(AuthError::InvalidScope),
        (Some(header), _) => Cow::Borrowed(header),
        (None, Some(query)) => query,
        (None, None) => return Ok(None),
    };
    let well_formed = !scope.is_empty()
        && scope.len() <= MAX_SCOPE_LEN
        && scope.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed {
        return Err(AuthError::InvalidScope);
    }
    Ok(Some(scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::MAX_TOKEN_LEN;

    /// Where the token starts, and its syntax, as the layer then checks it.
    fn start(value: &str) -> Result<Option<usize>, AuthError> {
        checked_start(value.as_bytes())
    }

    fn checked_start(value: &[u8]) -> Result<Option<usize>, AuthError> {
        let start = bearer_token_start(value)?;
        if let Some(start) = start {
            crate::claims::check_token_syntax(&value[start..])?;
        }
        Ok(start)
    }

    fn read_request(
        headers: &[(&str, &str)],
        uri: &str,
    ) -> Result<(Option<usize>, Option<String>), AuthError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let uri: Uri = uri.parse().unwrap();
        let credentials = read(&map, &uri)?;
        Ok((
            credentials.bearer.map(|(_, start)| start),
            credentials.scope.map(Cow::into_owned),
        ))
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER a.b.c",
            "bEaReR a.b.c",
        ] {
            assert_eq!(start(value), Ok(Some(7)), "{value}");
        }
    }

    #[test]
    fn several_spaces_are_allowed() {
        assert_eq!(start("Bearer    a.b.c"), Ok(Some(10)));
    }

    #[test]
    fn other_schemes_are_not_bearer_credentials() {
        for value in [
            "Basic Y2xpZW50OnNlY3JldA==",
            "Bearerx a.b.c",
            "Token a",
            "",
            "Negotiate",
        ] {
            assert_eq!(start(value), Ok(None), "{value}");
        }
    }

    #[test]
    fn bearer_without_a_usable_token_is_malformed() {
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer   ",
            "Bearer\ta.b.c",
            "Bearer a b",
            "Bearer a,b",
            "Bearer a.b.c ",
        ] {
            assert_eq!(start(value), Err(AuthError::MalformedToken), "{value:?}");
        }
    }

    #[test]
    fn non_ascii_token_bytes_are_malformed() {
        assert_eq!(
            checked_start(b"Bearer a\xffb"),
            Err(AuthError::MalformedToken)
        );
    }

    #[test]
    fn oversize_token_is_refused_before_decoding() {
        let token = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            start(&format!("Bearer {token}")),
            Err(AuthError::TokenTooLarge)
        );
    }

    #[test]
    fn two_authorization_headers_are_ambiguous() {
        let headers = [
            ("authorization", "Bearer a.b.c"),
            ("authorization", "Bearer a.b.c"),
        ];
        assert_eq!(
            read_request(&headers, "/"),
            Err(AuthError::MultipleCredentials)
        );
    }

    #[test]
    fn header_and_access_token_parameter_are_ambiguous() {
        let headers = [("authorization", "Bearer a.b.c")];
        assert_eq!(
            read_request(&headers, "/x?access_token=a.b.c"),
            Err(AuthError::MultipleCredentials)
        );
    }

    #[test]
    fn access_token_parameter_alone_is_refused() {
        assert_eq!(
            read_request(&[], "/x?access_token=a.b.c"),
            Err(AuthError::TokenInQuery)
        );
    }

    #[test]
    fn scope_comes_from_header_or_query() {
        assert_eq!(
            read_request(&[("scope", "p1")], "/"),
            Ok((None, Some("p1".into())))
        );
        assert_eq!(
            read_request(&[], "/x?a=1&scope=p%31"),
            Ok((None, Some("p1".into())))
        );
        assert_eq!(
            read_request(&[("scope", "p1")], "/x?scope=p1"),
            Ok((None, Some("p1".into())))
        );
    }

    #[test]
    fn conflicting_or_repeated_scopes_are_invalid() {
        assert_eq!(
            read_request(&[("scope", "p1")], "/x?scope=p2"),
            Err(AuthError::InvalidScope)
        );
        assert_eq!(
            read_request(&[], "/x?scope=p1&scope=p1"),
            Err(AuthError::InvalidScope)
        );
        assert_eq!(
            read_request(&[("scope", "p1"), ("scope", "p1")], "/"),
            Err(AuthError::InvalidScope)
        );
    }

    #[test]
    fn ill_formed_scopes_are_invalid() {
        for query in [
            "/x?scope=",
            "/x?scope=a+b",
            "/x?scope=%C3%A9",
            "/x?scope=%00",
        ] {
            assert_eq!(
                read_request(&[], query),
                Err(AuthError::InvalidScope),
                "{query}"
            );
        }
        let long = format!("/x?scope={}", "p".repeat(MAX_SCOPE_LEN + 1));
        assert_eq!(read_request(&[], &long), Err(AuthError::InvalidScope));
    }
}
