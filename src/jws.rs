//! Compact JWS parsing (RFC 7515 §7.1): three base64url segments, a JOSE header that is a JSON
//! object, strict decoding. Nothing here trusts the token: the algorithm read from the header
//! only selects among the keys the service configured.

use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::AuthError;
use crate::bytes::{equal_bytes, first_flagged, last_flagged};
use crate::json::Text;

/// The three segments of a compact JWS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segments<'t> {
    pub(crate) header: &'t [u8],
    pub(crate) payload: &'t [u8],
    pub(crate) signature: &'t [u8],
    /// `header '.' payload`, the bytes the signature covers.
    pub(crate) signing_input: &'t [u8],
}

/// The segments around the first and the last dot (searched eight bytes at a time, from the
/// start for the short header, from the end for the short signature), header and payload
/// non-empty. The payload may hold other dots: base64url decoding refuses them, and the
/// verifier's syntax check counts them.
pub(crate) fn split_at_outer_dots(token: &[u8]) -> Option<Segments<'_>> {
    split_at(token, first_dot(token)?, last_dot(token)?)
}

/// The segments around the dots at `first` and `last`, if there are dots there, with a
/// non-empty header and payload between them.
pub(crate) fn split_at(token: &[u8], first: usize, last: usize) -> Option<Segments<'_>> {
    let dots = token.get(first) == Some(&b'.') && token.get(last) == Some(&b'.');
    if !dots || first == 0 || last <= first + 1 {
        return None;
    }
    Some(Segments {
        header: &token[..first],
        payload: &token[first + 1..last],
        signature: &token[last + 1..],
        signing_input: &token[..last],
    })
}

/// A buffer for [`decode_segment`]: it need not be initialised (nor zeroed on every call).
pub(crate) const fn buffer<const N: usize>() -> [MaybeUninit<u8>; N] {
    [MaybeUninit::uninit(); N]
}

/// Where the first dot is, eight bytes at a time (a byte-by-byte search costs five times more
/// instructions).
fn first_dot(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut start = 0;
    for chunk in &mut chunks {
        let dots = equal_bytes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")), b'.');
        if dots != 0 {
            return Some(start + first_flagged(dots));
        }
        start += 8;
    }
    let rest = chunks.remainder();
    rest.iter().position(|&b| b == b'.').map(|i| start + i)
}

/// Where the last dot is, eight bytes at a time from the end.
fn last_dot(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.rchunks_exact(8);
    let mut end = bytes.len();
    for chunk in &mut chunks {
        end -= 8;
        let dots = equal_bytes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")), b'.');
        if dots != 0 {
            return Some(end + last_flagged(dots));
        }
    }
    // What is left is the first `len % 8` bytes.
    chunks.remainder().iter().rposition(|&b| b == b'.')
}

/// Decodes unpadded base64url into `buf`, refusing padding, other alphabets and non-canonical
/// trailing bits; `None` also when `buf` is too small.
///
/// base64-simd, with the SIMD instructions the CPU has: the same strict decoding as the
/// `base64` crate's `URL_SAFE_NO_PAD` (the tests below and the conformance suite hold both to
/// it), several times faster on a token's 86 to 500 characters.
pub(crate) fn decode_segment<'b>(
    segment: &[u8],
    buf: &'b mut [MaybeUninit<u8>],
) -> Option<&'b [u8]> {
    let engine = base64_simd::URL_SAFE_NO_PAD;
    if engine.decoded_length(segment).ok()? > buf.len() {
        return None;
    }
    let decoded = engine
        .decode(segment, base64_simd::Out::from_uninit_slice(buf))
        .ok()?;
    Some(decoded)
}

/// The unpadded base64url encoding of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The unpadded base64url length of `len` bytes.
pub(crate) const fn encoded_len(len: usize) -> usize {
    (len * 4).div_ceil(3)
}

/// The largest JOSE header accepted, decoded. REGARDS' is 16 bytes.
pub(crate) const MAX_HEADER_LEN: usize = 1024;

/// The members of a JOSE header that matter. Everything else (`kid`, `jku`, `jwk`, `x5u`...)
/// is read past and grants nothing.
#[derive(Debug)]
pub(crate) struct JoseHeader<'a> {
    pub(crate) alg: Cow<'a, str>,
    typ: Option<Cow<'a, str>>,
    has_crit: bool,
    has_cty: bool,
    has_zip: bool,
}

/// Whether `typ` says a JWT in compact serialization: `JWT` (RFC 7519 §5.1) or `JOSE`
/// (RFC 7515 §9.1.1), as media types compare (any case), with or without the `application/`
/// that RFC 7515 §4.1.9 lets a producer omit.
fn is_jwt_type(typ: &str) -> bool {
    const APPLICATION: &str = "application/";
    let subtype = match typ.get(..APPLICATION.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(APPLICATION) => &typ[APPLICATION.len()..],
        _ => typ,
    };
    subtype.eq_ignore_ascii_case("JWT") || subtype.eq_ignore_ascii_case("JOSE")
}

impl JoseHeader<'_> {
    /// Refuses what RFC 8725 tells a verifier not to process: `crit` (no extension is
    /// understood), `cty` (no nested JWT), and a `typ` that is not a JWT's (§3.11: a token of
    /// another kind, such as `at+jwt` or `secevent+jwt`, is not taken for a REGARDS token).
    /// Also `zip`, whatever its value: compression is JWE's (RFC 7516 §4.1.3), not JWS's;
    /// jjwt, REGARDS' parser, inflates `DEF` and `GZIP` payloads and fails on any other value,
    /// and this crate reads no compressed payload (decompression bombs), so a token that
    /// declares one is refused before its signature is checked, rather than read as if the
    /// declaration were not there.
    fn check(&self) -> Result<(), AuthError> {
        let typ_ok = self.typ.as_deref().is_none_or(is_jwt_type);
        if self.has_crit || self.has_cty || self.has_zip || !typ_ok {
            return Err(AuthError::UnsupportedHeader);
        }
        Ok(())
    }
}

/// Decodes and checks the header segment.
pub(crate) fn decode_header<'b>(
    segment: &[u8],
    buf: &'b mut [MaybeUninit<u8>; MAX_HEADER_LEN],
) -> Result<JoseHeader<'b>, AuthError> {
    // Unpadded base64url never has a length of 4n + 1: refused before the buffer is touched.
    if segment.len() > encoded_len(MAX_HEADER_LEN) || segment.len() % 4 == 1 {
        return Err(AuthError::MalformedToken);
    }
    let json = decode_segment(segment, buf).ok_or(AuthError::MalformedToken)?;
    // RFC 7515 §5.2: the header must be UTF-8 throughout, members read past included (the JSON
    // parser does not check the bytes of values it skips).
    let json = std::str::from_utf8(json).map_err(|_| AuthError::MalformedToken)?;
    let header: JoseHeader<'b> =
        serde_json::from_str(json).map_err(|_| AuthError::MalformedToken)?;
    header.check()?;
    Ok(header)
}

/// How many distinct members a header may have.
const MAX_HEADER_MEMBERS: usize = 16;

impl<'de> de::Deserialize<'de> for JoseHeader<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;

        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = JoseHeader<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JOSE header object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut seen: [Option<Cow<'de, str>>; MAX_HEADER_MEMBERS] =
                    [const { None }; MAX_HEADER_MEMBERS];
                let mut alg = None;
                let mut typ = None;
                let (mut has_crit, mut has_cty, mut has_zip) = (false, false, false);
                let mut count = 0;
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    // RFC 7515 §4: member names must be unique.
                    if count == MAX_HEADER_MEMBERS
                        || seen[..count].iter().flatten().any(|s| *s == name)
                    {
                        return Err(de::Error::custom("duplicate or too many header members"));
                    }
                    match &*name {
                        "alg" => alg = Some(map.next_value::<Text<'de>>()?.0),
                        "typ" => typ = Some(map.next_value::<Text<'de>>()?.0),
                        other => {
                            has_crit |= other == "crit";
                            has_cty |= other == "cty";
                            has_zip |= other == "zip";
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    seen[count] = Some(name);
                    count += 1;
                }
                Ok(JoseHeader {
                    alg: alg.ok_or_else(|| de::Error::missing_field("alg"))?,
                    typ,
                    has_crit,
                    has_cty,
                    has_zip,
                })
            }
        }

        deserializer.deserialize_map(HeaderVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str) -> Result<String, AuthError> {
        let segment = URL_SAFE_NO_PAD.encode(json);
        let mut buf = buffer::<MAX_HEADER_LEN>();
        decode_header(segment.as_bytes(), &mut buf).map(|h| h.alg.into_owned())
    }

    #[test]
    fn outer_dots_split_a_token_in_three() {
        let segments = split_at_outer_dots(b"hh.pp.ss").unwrap();
        assert_eq!(
            (segments.header, segments.payload, segments.signature),
            (&b"hh"[..], &b"pp"[..], &b"ss"[..])
        );
        assert_eq!(segments.signing_input, b"hh.pp");
        assert!(
            split_at_outer_dots(b"a.b.").is_some(),
            "an empty signature is refused later"
        );
        let inner = split_at_outer_dots(b"a.b.c.d").unwrap();
        assert_eq!(inner.payload, b"b.c", "inner dots stay in the payload");
        assert_eq!(split_at(b"a.b.c.d", 1, 3).unwrap().signature, b"c.d");
        assert!(split_at(b"a.b.c.d", 2, 5).is_none(), "no dots there");
        assert!(split_at(b"a.b.c.d", 1, 9).is_none(), "beyond the token");
        for bad in ["abc", "a.b", ".b.c", "a..c", "..", "...", ""] {
            assert!(split_at_outer_dots(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn word_at_a_time_dot_search_finds_what_a_byte_search_finds() {
        for len in 0..40 {
            for dots in [0u64, 1, 0b101, 0b1_0000_0001, u64::MAX] {
                for shift in 0..len.max(1) {
                    let bytes: Vec<u8> = (0..len)
                        .map(|i| {
                            let is_dot = (dots.rotate_left(shift as u32) >> (i % 64)) & 1 == 1;
                            if is_dot {
                                b'.'
                            } else {
                                [b'a', 0xae, b'/', 0x2f][i % 4]
                            }
                        })
                        .collect();
                    assert_eq!(
                        first_dot(&bytes),
                        bytes.iter().position(|&b| b == b'.'),
                        "{bytes:?}"
                    );
                    assert_eq!(
                        last_dot(&bytes),
                        bytes.iter().rposition(|&b| b == b'.'),
                        "{bytes:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn regards_header_decodes() {
        assert_eq!(header(r#"{"alg":"HS512"}"#).unwrap(), "HS512");
        assert_eq!(header(r#"{"typ":"JWT","alg":"HS256"}"#).unwrap(), "HS256");
        assert_eq!(
            header(r#"{"alg":"HS256","typ":"jwt","kid":"k"}"#).unwrap(),
            "HS256"
        );
    }

    #[test]
    fn typ_jwt_or_jose_is_accepted_in_any_case_with_or_without_application() {
        for typ in [
            "JWT",
            "jwt",
            "JOSE",
            "Jose",
            "application/jwt",
            "application/JOSE",
            "APPLICATION/jwt",
        ] {
            let json = format!(r#"{{"alg":"HS512","typ":"{typ}"}}"#);
            assert_eq!(header(&json).unwrap(), "HS512", "{typ}");
        }
    }

    #[test]
    fn crit_cty_and_other_types_are_refused() {
        for bad in [
            r#"{"alg":"HS512","crit":["exp"]}"#,
            r#"{"alg":"HS512","cty":"JWT"}"#,
            r#"{"alg":"HS512","typ":"at+jwt"}"#,
            r#"{"alg":"HS512","typ":"application/jose+json"}"#,
            r#"{"alg":"HS512","typ":"application/"}"#,
            r#"{"alg":"HS512","typ":"x/jwt"}"#,
            r#"{"alg":"HS512","typ":""}"#,
        ] {
            assert_eq!(header(bad), Err(AuthError::UnsupportedHeader), "{bad}");
        }
    }

    #[test]
    fn zip_is_refused_whatever_its_value() {
        for zip in [r#""DEF""#, r#""GZIP""#, r#""XYZ""#, r#""""#, "null", "1"] {
            let json = format!(r#"{{"alg":"HS512","zip":{zip}}}"#);
            assert_eq!(header(&json), Err(AuthError::UnsupportedHeader), "{zip}");
        }
    }

    #[test]
    fn ill_formed_headers_are_malformed() {
        for bad in [
            "[]",
            r#"["HS512"]"#,
            r#""HS512""#,
            "{}",
            r#"{"alg":512}"#,
            r#"{"alg":null}"#,
            r#"{"alg":"HS512","typ":1}"#,
            r#"{"alg":"HS512","alg":"none"}"#,
            r#"{"alg":"HS512","\u0061lg":"none"}"#,
            r#"{"alg":"HS512","kid":"a","kid":"b"}"#,
            r#"{"alg":"HS512"}x"#,
        ] {
            assert_eq!(header(bad), Err(AuthError::MalformedToken), "{bad}");
        }
    }

    #[test]
    fn padded_and_non_canonical_base64_is_refused() {
        let mut buf = buffer::<8>();
        assert_eq!(decode_segment(b"YQ", &mut buf), Some(&b"a"[..]));
        assert!(decode_segment(b"YQ==", &mut buf).is_none());
        assert!(
            decode_segment(b"YR", &mut buf).is_none(),
            "non-zero trailing bits"
        );
        assert!(
            decode_segment(b"Y+", &mut buf).is_none(),
            "standard alphabet"
        );
        assert!(
            decode_segment(b"Y", &mut buf).is_none(),
            "4n + 1 characters"
        );
        assert!(decode_segment(b"YW J", &mut buf).is_none(), "space");
        assert!(
            decode_segment(b"YWJjZA", &mut buffer::<3>()).is_none(),
            "a buffer too small is a refusal, not a panic"
        );
        assert_eq!(
            decode_segment(b"YWJjZA", &mut buffer::<4>()),
            Some(&b"abcd"[..])
        );
    }

    #[test]
    fn oversize_header_is_malformed() {
        let json = format!(r#"{{"alg":"HS512","x":"{}"}}"#, "a".repeat(MAX_HEADER_LEN));
        assert_eq!(header(&json), Err(AuthError::MalformedToken));
    }
}
