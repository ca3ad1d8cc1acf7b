//! The claims of a token, read in one pass over their JSON text: REGARDS' members straight into
//! their fields, every other member kept as its exact JSON text.
//!
//! It accepts and refuses exactly what the strict serde_json decoding of the claims
//! (`super::serde`, kept as the reference) does: one JSON object (RFC 8259) with only whitespace
//! around it; member names unique once unescaped; strings of UTF-8 without control characters
//! or lone surrogate escapes; numbers within the range of a double; containers nested at most
//! [`MAX_DEPTH`] deep, the claims object included. Property tests (below) and the `claims`
//! fuzz target hold the two to the same verdicts and the same identities.
//!
//! Numbers: a date written as a whole number within `u64` (what REGARDS writes) is read here,
//! and any number written as an integer of at most 300 digits is within range; any other form (a
//! fraction, an exponent, a longer integer) is handed to serde_json's own number parser, so that
//! the rounding and the range are serde_json's to the last bit.

use std::borrow::Cow;

use super::serde::Field;
use super::{Additional, ClaimsSet};
use crate::AuthError;
use crate::bytes::{first_flagged, first_string_stop, word_at};
use crate::json::NumericDate;
use crate::role::Role;

/// How deep containers may nest, the claims object counting as the first level (a claim's value
/// may hold 126 nested arrays or objects): serde_json's recursion limit, which the reference
/// decoding applies.
pub(crate) const MAX_DEPTH: usize = 127;

/// Integers of at most this many digits are within the range of a double (< 10^308), whatever
/// they are: no need to ask serde_json.
const SURELY_FINITE_DIGITS: usize = 300;

const INVALID: AuthError = AuthError::InvalidClaims;

type Read<T> = Result<T, AuthError>;

/// Reads a claims set: REGARDS' members (required, typed, each at most once) and the others.
/// Its strings borrow from `json` unless they have escapes.
pub(crate) fn read_claims(json: &[u8]) -> Read<ClaimsSet<'_>> {
    // JSON text is UTF-8: checked once for the whole text, so that any slice of it is a `str`.
    let text = std::str::from_utf8(json).map_err(|_| INVALID)?;
    let mut reader = Reader::new(text);
    reader.skip_whitespace();
    let claims = reader.claims()?;
    reader.skip_whitespace();
    if reader.pos != json.len() {
        return Err(INVALID);
    }
    Ok(claims)
}

/// The strings of a JSON array of strings (an `aud` claim), `None` when it is anything else.
pub(crate) fn string_array(json: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut reader = Reader::new(json);
    let strings = reader.string_array().ok()?;
    (reader.pos == json.len()).then_some(strings)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

/// The members read so far. Optional members are `Option<Option<_>>`: seen (for duplicates),
/// and `null` or not.
#[derive(Default)]
struct Members<'a> {
    sub: Option<Cow<'a, str>>,
    email: Option<Cow<'a, str>>,
    role: Option<Cow<'a, str>>,
    tenant: Option<Cow<'a, str>>,
    exp: Option<u64>,
    nbf: Option<Option<u64>>,
    access_groups: Option<Option<Vec<String>>>,
    /// Every other member, `null` ones included until the end (a repeated name is refused).
    additional: Vec<Additional<'a>>,
    has_null: bool,
}

/// A JSON number as written, and its value when it is a whole number within `u64`.
struct Number<'a> {
    text: &'a str,
    whole: Option<u64>,
    /// No fraction and no exponent.
    integer: bool,
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Read<()> {
    if slot.is_some() {
        return Err(INVALID);
    }
    *slot = Some(value);
    Ok(())
}

fn required(text: Option<Cow<'_, str>>) -> Read<Cow<'_, str>> {
    text.filter(|text| !text.is_empty()).ok_or(INVALID)
}

impl<'a> Members<'a> {
    fn finish(self) -> Read<ClaimsSet<'a>> {
        let mut additional = self.additional;
        if has_duplicate_names(&additional) {
            return Err(INVALID);
        }
        if self.has_null {
            additional.retain(|claim| !claim.is_null());
        }
        let role = self.role.ok_or(INVALID)?;
        if !Role::is_role_name(&role) {
            return Err(INVALID);
        }
        Ok(ClaimsSet {
            sub: required(self.sub)?,
            email: required(self.email)?,
            role: Role::from_name(&role),
            tenant: required(self.tenant)?,
            access_groups: self.access_groups.flatten().unwrap_or_default(),
            exp: self.exp.ok_or(INVALID)?,
            nbf: self.nbf.flatten(),
            additional,
        })
    }
}

/// Whether two additional claims have the same name: pairwise for a few, sorted for many.
fn has_duplicate_names(claims: &[Additional<'_>]) -> bool {
    if claims.len() <= 16 {
        return claims
            .iter()
            .enumerate()
            .any(|(i, claim)| claims[..i].iter().any(|other| other.name == claim.name));
    }
    let mut names: Vec<&str> = claims.iter().map(|claim| &*claim.name).collect();
    names.sort_unstable();
    names.windows(2).any(|pair| pair[0] == pair[1])
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The next byte, moved past.
    fn next_byte(&mut self) -> Option<u8> {
        let byte = self.peek();
        self.pos += usize::from(byte.is_some());
        byte
    }

    /// Moves past `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.pos += usize::from(next);
        next
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        if self.eat(byte) { Ok(()) } else { Err(INVALID) }
    }

    /// Moves past `word` (`true`, `false`, `null`) if it comes next.
    fn eat_word(&mut self, word: &[u8]) -> bool {
        let next = self.bytes[self.pos..].starts_with(word);
        if next {
            self.pos += word.len();
        }
        next
    }

    /// RFC 8259's whitespace: space, tab, line feed, carriage return.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The claims object, from its `{` to its `}`.
    fn claims(&mut self) -> Read<ClaimsSet<'a>> {
        self.expect(b'{')?;
        self.skip_whitespace();
        let mut members = Members::default();
        if !self.eat(b'}') {
            loop {
                let (field, name) = match self.plain_regards_name() {
                    Some((field, name)) => (field, Cow::Borrowed(name)),
                    None => {
                        let name = self.string()?;
                        (Field::of(&name), name)
                    }
                };
                self.skip_whitespace();
                self.expect(b':')?;
                self.skip_whitespace();
                self.member(field, name, &mut members)?;
                self.skip_whitespace();
                match self.next_byte() {
                    Some(b',') => self.skip_whitespace(),
                    Some(b'}') => break,
                    _ => return Err(INVALID),
                }
            }
        }
        members.finish()
    }

    /// The name of one of REGARDS' members, quoted and written without escapes, when it comes
    /// next: recognised by its bytes, without the string scan (REGARDS' tokens have five).
    fn plain_regards_name(&mut self) -> Option<(Field, &'static str)> {
        let rest = self.bytes.get(self.pos..)?;
        let (field, name) = match rest.get(1..3)? {
            b"su" => (Field::Sub, "sub"),
            b"em" => (Field::Email, "email"),
            b"ro" => (Field::Role, "role"),
            b"te" => (Field::Tenant, "tenant"),
            b"ex" => (Field::Exp, "exp"),
            b"nb" => (Field::Nbf, "nbf"),
            b"ac" => (Field::AccessGroups, "accessGroups"),
            _ => return None,
        };
        let end = name.len() + 1;
        let quoted = rest[0] == b'"' && rest.get(1..end)? == name.as_bytes();
        if !quoted || rest.get(end) != Some(&b'"') {
            return None;
        }
        self.pos += end + 1;
        Some((field, name))
    }

    /// The value of the member `name`, into its field.
    fn member(&mut self, field: Field, name: Cow<'a, str>, members: &mut Members<'a>) -> Read<()> {
        match field {
            Field::Sub => {
                let sub = self.string()?;
                set_once(&mut members.sub, sub)
            }
            Field::Email => {
                let email = self.string()?;
                set_once(&mut members.email, email)
            }
            Field::Role => {
                let role = self.string()?;
                set_once(&mut members.role, role)
            }
            Field::Tenant => {
                let tenant = self.string()?;
                set_once(&mut members.tenant, tenant)
            }
            Field::Exp => {
                let exp = self.date::<false>()?;
                set_once(&mut members.exp, exp)
            }
            Field::Nbf => {
                let nbf = if self.eat_word(b"null") {
                    None
                } else {
                    Some(self.date::<true>()?)
                };
                set_once(&mut members.nbf, nbf)
            }
            Field::AccessGroups => {
                let groups = if self.eat_word(b"null") {
                    None
                } else {
                    let groups = self.string_array()?;
                    Some(groups.into_iter().map(Cow::into_owned).collect())
                };
                set_once(&mut members.access_groups, groups)
            }
            Field::Other => {
                let start = self.pos;
                let string = if self.peek() == Some(b'"') {
                    Some(self.string()?)
                } else {
                    self.skip_value(1)?;
                    None
                };
                let claim = Additional {
                    name,
                    json: Cow::Borrowed(&self.text[start..self.pos]),
                    string,
                };
                members.has_null |= claim.is_null();
                members.additional.push(claim);
                Ok(())
            }
        }
    }

    /// A NumericDate (see [`NumericDate`]): a whole number within `u64` is read here, any other
    /// form by serde_json, as the reference decoding reads it.
    fn date<const ROUND_UP: bool>(&mut self) -> Read<u64> {
        // What REGARDS writes, read on the spot: one to nineteen digits, no leading zero, then
        // the end of the number.
        let start = self.pos;
        let mut seconds = 0u64;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            seconds = seconds
                .wrapping_mul(10)
                .wrapping_add(u64::from(digit - b'0'));
            self.pos += 1;
        }
        let digits = self.pos - start;
        let plain = matches!(digits, 1..=19)
            && (digits == 1 || self.bytes[start] != b'0')
            && !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        if plain {
            return Ok(seconds);
        }
        self.pos = start;
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(INVALID);
        }
        let number = self.number()?;
        match number.whole {
            Some(seconds) => Ok(seconds),
            None => serde_json::from_str::<NumericDate<ROUND_UP>>(number.text)
                .map(|date| date.0)
                .map_err(|_| INVALID),
        }
    }

    /// `[` strings `]`.
    fn string_array(&mut self) -> Read<Vec<Cow<'a, str>>> {
        self.expect(b'[')?;
        self.skip_whitespace();
        let mut strings = Vec::new();
        if self.eat(b']') {
            return Ok(strings);
        }
        loop {
            strings.push(self.string()?);
            self.skip_whitespace();
            match self.next_byte() {
                Some(b',') => self.skip_whitespace(),
                Some(b']') => return Ok(strings),
                _ => return Err(INVALID),
            }
        }
    }

    /// A string's value: borrowed from the text when it has no escapes.
    #[inline]
    fn string(&mut self) -> Read<Cow<'a, str>> {
        let (raw, escaped) = self.scan_string()?;
        if escaped {
            unescape(raw).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(raw))
        }
    }

    /// Checks a string, from its opening quote to its closing one, and returns what lies
    /// between them, and whether that has escapes.
    #[inline(always)]
    fn scan_string(&mut self) -> Read<(&'a str, bool)> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            self.pos = plain_text_end(self.bytes, self.pos);
            match self.next_byte() {
                Some(b'"') => return Ok((&self.text[start..self.pos - 1], escaped)),
                Some(b'\\') => {
                    self.escape()?;
                    escaped = true;
                }
                // A control character (RFC 8259 §7: they must be escaped), or the end.
                _ => return Err(INVALID),
            }
        }
    }

    /// The character an escape stands for, its backslash read.
    fn escape(&mut self) -> Read<char> {
        Ok(match self.next_byte() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(),
            _ => return Err(INVALID),
        })
    }

    /// `\uXXXX`, its `\u` read: a character of the Basic Multilingual Plane, or a UTF-16
    /// surrogate pair written as two escapes. A lone surrogate is refused.
    fn unicode_escape(&mut self) -> Read<char> {
        let unit = self.hex4()?;
        let code = match unit {
            0xD800..=0xDBFF => {
                if !self.eat_word(b"\\u") {
                    return Err(INVALID);
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(INVALID);
                }
                0x1_0000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            _ => unit,
        };
        // A low surrogate alone is no character.
        char::from_u32(code).ok_or(INVALID)
    }

    fn hex4(&mut self) -> Read<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(INVALID)?;
        self.pos += 4;
        digits.iter().try_fold(0, |code, &digit| {
            let value = char::from(digit).to_digit(16).ok_or(INVALID)?;
            Ok(code << 4 | value)
        })
    }

    /// A number (RFC 8259 §6): `-`, no leading zero, a fraction and an exponent each with
    /// digits.
    fn number(&mut self) -> Read<Number<'a>> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let integer_start = self.pos;
        self.digits()?;
        let digits = &self.bytes[integer_start..self.pos];
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(INVALID);
        }
        // Nineteen digits never overflow a `u64`; more may.
        let whole = if digits.len() <= 19 {
            Some(
                digits
                    .iter()
                    .fold(0, |n, &digit| n * 10 + u64::from(digit - b'0')),
            )
        } else {
            digits.iter().try_fold(0u64, |n, &digit| {
                n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
            })
        };
        let mut integer = true;
        if self.eat(b'.') {
            self.digits()?;
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
            integer = false;
        }
        Ok(Number {
            text: &self.text[start..self.pos],
            whole: whole.filter(|_| integer && !negative),
            integer,
        })
    }

    /// One digit or more.
    fn digits(&mut self) -> Read<()> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        if self.pos == start {
            Err(INVALID)
        } else {
            Ok(())
        }
    }

    /// Reads past one value, checking it, its containers opening below `depth` levels already
    /// open; without recursion (one bit per open container says whether it is an object).
    fn skip_value(&mut self, depth: usize) -> Read<()> {
        let mut objects: u128 = 0;
        let mut open = 0;
        loop {
            // A value starts here.
            match self.peek() {
                Some(opening @ (b'{' | b'[')) => {
                    self.pos += 1;
                    if depth + open >= MAX_DEPTH {
                        return Err(INVALID);
                    }
                    open += 1;
                    objects = objects << 1 | u128::from(opening == b'{');
                    self.skip_whitespace();
                    let closing = if opening == b'{' { b'}' } else { b']' };
                    if !self.eat(closing) {
                        if opening == b'{' {
                            self.member_name()?;
                        }
                        continue;
                    }
                    open -= 1;
                    objects >>= 1;
                }
                Some(b'"') => {
                    self.scan_string()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    let number = self.number()?;
                    check_range(&number)?;
                }
                Some(b't') if self.eat_word(b"true") => {}
                Some(b'f') if self.eat_word(b"false") => {}
                Some(b'n') if self.eat_word(b"null") => {}
                _ => return Err(INVALID),
            }
            // After a value: the containers it ends, then the next element.
            loop {
                if open == 0 {
                    return Ok(());
                }
                self.skip_whitespace();
                let in_object = objects & 1 == 1;
                match self.next_byte() {
                    Some(b',') => {
                        self.skip_whitespace();
                        if in_object {
                            self.member_name()?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return Err(INVALID),
                }
                open -= 1;
                objects >>= 1;
            }
        }
    }

    /// A member name and its colon, inside a skipped object.
    fn member_name(&mut self) -> Read<()> {
        self.scan_string()?;
        self.skip_whitespace();
        self.expect(b':')?;
        self.skip_whitespace();
        Ok(())
    }
}

/// Where the plain text of a string that goes on at `from` ends: the next quote, backslash or
/// control character (UTF-8 was checked already), found eight bytes at a time, as strings are
/// most of the claims; the end of `bytes` if there is none.
#[inline(always)]
fn plain_text_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(word) = word_at(bytes, at) {
        let stops = first_string_stop(word);
        if stops != 0 {
            return at + first_flagged(stops);
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// Refuses a number no double holds (`1e400`), as serde_json does: integers short enough are
/// surely finite, the others are asked to serde_json's own parser.
fn check_range(number: &Number<'_>) -> Read<()> {
    let digits = number.text.trim_start_matches('-').len();
    if number.integer && digits <= SURELY_FINITE_DIGITS {
        return Ok(());
    }
    serde_json::from_str::<f64>(number.text)
        .map(drop)
        .map_err(|_| INVALID)
}

/// The value of a string whose text (between the quotes) was checked and has escapes.
fn unescape(raw: &str) -> Read<String> {
    let mut value = String::with_capacity(raw.len());
    let mut reader = Reader::new(raw);
    while let Some(backslash) = raw[reader.pos..].find('\\') {
        value.push_str(&raw[reader.pos..reader.pos + backslash]);
        reader.pos += backslash + 1;
        value.push(reader.escape()?);
    }
    value.push_str(&raw[reader.pos..]);
    Ok(value)
}

/// What the reader and the reference decoding (serde_json, `super::serde`) disagree on for
/// `json`, if anything: the verdict, or the identity (the typed fields; each additional
/// claim's name, its exact text as serde_json's `RawValue` delimits it, its value as
/// serde_json reads it, and a string's value).
#[cfg(any(test, fuzzing))]
pub(crate) fn disagreement(json: &[u8]) -> Option<String> {
    use std::collections::HashMap;

    use serde_json::Value;
    use serde_json::value::RawValue;

    let read = read_claims(json).map(|set| set.into_claims(""));
    let reference = super::decode_claims(json).map(|set| set.into_claims(""));
    let (read, reference) = match (read, reference) {
        (Err(_), Err(_)) => return None,
        (Ok(read), Ok(reference)) => (read, reference),
        (read, reference) => {
            return Some(format!(
                "verdicts differ: reader {:?}, serde_json {:?}",
                read.map(|_| "accepted"),
                reference.map(|_| "accepted")
            ));
        }
    };
    let typed = |claims: &super::Claims| {
        format!(
            "{:?}",
            (
                claims.sub(),
                claims.email(),
                claims.role(),
                claims.tenant(),
                claims.access_groups(),
                claims.exp(),
                claims.not_before()
            )
        )
    };
    if typed(&read) != typed(&reference) {
        return Some(format!(
            "typed fields differ: reader {}, serde_json {}",
            typed(&read),
            typed(&reference)
        ));
    }
    let mut read_names: Vec<&str> = read.additional_claims().names().collect();
    let mut reference_names: Vec<&str> = reference.additional_claims().names().collect();
    read_names.sort_unstable();
    reference_names.sort_unstable();
    if read_names != reference_names {
        return Some(format!(
            "additional claims differ: reader {read_names:?}, serde_json {reference_names:?}"
        ));
    }
    // Accepted by both: the text is a JSON object without duplicate members.
    let texts: HashMap<String, Box<RawValue>> =
        serde_json::from_slice(json).expect("an accepted claims set is a JSON object");
    let values: HashMap<String, Value> =
        serde_json::from_slice(json).expect("an accepted claims set is a JSON object");
    for (name, value) in read.additional_claims().iter() {
        let exact = texts[name].get();
        let expected = &values[name];
        let read_value: Value = value.deserialize().expect("a kept claim is JSON");
        if value.json() != exact || read_value != *expected || value.as_str() != expected.as_str() {
            return Some(format!(
                "claim {name:?}: reader {value} ({read_value}), serde_json {exact} ({expected})"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::*;

    const REGARDS: &str = r#"{"tenant":"project1","role":"ADMIN","sub":"jane@regards.fr","email":"jane@regards.fr","exp":4102444800}"#;

    /// The claims sets of the conformance suite that reach the reader (signed correctly).
    fn conformance_corpus() -> Vec<Vec<u8>> {
        include_str!("../../tests/fixtures/claims_corpus.txt")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| STANDARD.decode(line).expect("the corpus is base64"))
            .collect()
    }

    /// REGARDS' claims with `member` added at the end.
    fn regards_with(member: &str) -> String {
        format!("{},{member}}}", &REGARDS[..REGARDS.len() - 1])
    }

    fn read(json: &str) -> Result<crate::Claims, AuthError> {
        if let Some(difference) = disagreement(json.as_bytes()) {
            panic!("{difference}: {json}");
        }
        read_claims(json.as_bytes()).map(|set| set.into_claims(""))
    }

    #[test]
    fn reader_agrees_with_serde_json_on_the_conformance_corpus() {
        let corpus = conformance_corpus();
        assert!(corpus.len() > 150, "{} claims sets", corpus.len());
        for json in corpus {
            assert_eq!(
                disagreement(&json),
                None,
                "{}",
                String::from_utf8_lossy(&json)
            );
        }
    }

    #[test]
    fn big_integers_keep_every_digit() {
        for number in [
            "123456789012345678901234567890",
            "-9223372036854775809",
            "18446744073709551616",
        ] {
            let claims = read(&regards_with(&format!(r#""big":{number}"#))).unwrap();
            let big = claims.additional("big").unwrap();
            assert_eq!(big.json(), number);
            assert_eq!((big.as_u64(), big.as_i64()), (None, None), "{number}");
            assert!(big.deserialize::<serde_json::Value>().unwrap().is_f64());
            let written = serde_json::to_string(&claims).unwrap();
            assert!(written.contains(&format!(r#""big":{number}"#)), "{written}");
        }
    }

    #[test]
    fn numbers_no_double_holds_are_refused() {
        let huge_integer = format!("1{}", "0".repeat(400));
        for number in ["1e400", "-1e400", "1E309", "2e308", &huge_integer] {
            let json = regards_with(&format!(r#""n":{number}"#));
            assert_eq!(read(&json).err(), Some(INVALID), "{number}");
            let nested = regards_with(&format!(r#""n":[{{"m":{number}}}]"#));
            assert_eq!(read(&nested).err(), Some(INVALID), "{number}");
        }
        // At the edge of a double, and below its smallest: kept as written.
        let longest = format!("9{}", "9".repeat(299));
        for number in ["1.7976931348623157e308", "1e-400", "0e999", &longest] {
            let claims = read(&regards_with(&format!(r#""n":{number}"#))).unwrap();
            assert_eq!(claims.additional("n").unwrap().json(), number);
        }
    }

    #[test]
    fn claims_nest_127_levels_deep_counting_the_claims_object() {
        let nested = |levels: usize| {
            let value = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
            regards_with(&format!(r#""deep":{value}"#))
        };
        assert!(read(&nested(MAX_DEPTH - 1)).is_ok(), "126 levels inside");
        assert_eq!(read(&nested(MAX_DEPTH)).err(), Some(INVALID));
        let objects = |levels: usize| {
            let value = format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels));
            regards_with(&format!(r#""deep":{value}"#))
        };
        assert!(read(&objects(MAX_DEPTH - 1)).is_ok());
        assert_eq!(read(&objects(MAX_DEPTH)).err(), Some(INVALID));
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        for bad in [
            "01", "-", "1.", ".5", "+1", "1e", "1e+", "0x1", "1.5.5", "--1", "Infinity",
        ] {
            let json = regards_with(&format!(r#""n":{bad}"#));
            assert_eq!(read(&json).err(), Some(INVALID), "{bad}");
        }
        for good in ["0", "-0", "0.5", "-0.0e-0", "1E+2", "12e3"] {
            let claims = read(&regards_with(&format!(r#""n":{good}"#))).unwrap();
            assert_eq!(claims.additional("n").unwrap().json(), good);
        }
    }

    #[test]
    fn dates_in_other_forms_are_read_as_serde_json_reads_them() {
        for (exp, expected) in [
            ("4102444800", 4_102_444_800),
            ("4102444800.9", 4_102_444_800),
            ("4.1024448e9", 4_102_444_800),
            ("18446744073709551615", u64::MAX),
            ("-0", 0),
        ] {
            let json = REGARDS.replace("4102444800", exp);
            assert_eq!(read(&json).unwrap().exp(), expected, "{exp}");
        }
        for bad in ["18446744073709551616", "-1", "04102444800", "1e20", "\"1\""] {
            let json = REGARDS.replace("4102444800", bad);
            assert_eq!(read(&json).err(), Some(INVALID), "{bad}");
        }
    }

    #[test]
    fn strings_are_unescaped_and_checked() {
        let claims = read(&REGARDS.replace(
            "jane@regards.fr\",\"exp",
            "j\\u00e9\\n\\ud83d\\ude00\\\"\\/\",\"exp",
        ))
        .unwrap();
        assert_eq!(claims.email(), "j\u{e9}\n\u{1f600}\"/");
        for bad in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\ud800x""#,
            r#""\x""#,
            r#""\u12""#,
            "\"\u{1}\"",
            "\"a\tb\"",
        ] {
            assert_eq!(
                read(&REGARDS.replace("\"ADMIN\"", bad)).err(),
                Some(INVALID),
                "{bad}"
            );
            assert_eq!(
                read(&regards_with(&format!(r#""x":[{bad}]"#))).err(),
                Some(INVALID)
            );
        }
    }

    #[test]
    fn an_escaped_string_claim_keeps_its_text_and_its_value() {
        let claims = read(&regards_with(r#""origin":"\u0075i","aud":["a\"b"]"#)).unwrap();
        let origin = claims.additional("origin").unwrap();
        assert_eq!(
            (origin.json(), origin.as_str()),
            (r#""\u0075i""#, Some("ui"))
        );
        assert_eq!(
            string_array(claims.additional("aud").unwrap().json()),
            Some(vec![Cow::Borrowed("a\"b")])
        );
    }

    #[test]
    fn nested_duplicate_names_are_kept_as_written() {
        // serde_json keeps the last of two equal names inside a value; only the claims' own
        // names must be unique.
        let claims = read(&regards_with(r#""x":{"a":1,"a":2}"#)).unwrap();
        assert_eq!(claims.additional("x").unwrap().json(), r#"{"a":1,"a":2}"#);
    }

    #[test]
    fn many_additional_claims_are_checked_for_duplicates() {
        let members: Vec<String> = (0..40).map(|i| format!(r#""c{i}":{i}"#)).collect();
        let json = regards_with(&members.join(","));
        assert_eq!(read(&json).unwrap().additional_claims().len(), 40);
        assert_eq!(
            read(&regards_with(&format!("{},\"c7\":0", members.join(",")))).err(),
            Some(INVALID)
        );
    }

    /// Bytes that change what JSON means, and pieces of claims sets.
    fn splice() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            proptest::sample::select(b"{}[]\":,\\/ \t\n\r0123456789.eE+-tfnulaxbru".to_vec()),
            proptest::sample::select(vec![0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xa9, 0xed, 0xa0, 0xff]),
        ]
        .prop_map(|byte| vec![byte]);
        let piece = proptest::sample::select(vec![
            r#""\ud800""#,
            r#"\ud83d\ude00"#,
            r#""\u0072ole""#,
            r#","role":"ADMIN""#,
            r#","exp":1"#,
            r#","nbf":null"#,
            r#","accessGroups":["g"]"#,
            r#","aud":["rs-notifier",1]"#,
            r#","x":null"#,
            r#","x":{"x":[1,{"y":null}]}"#,
            "1e400",
            "123456789012345678901234567890",
            "-0",
            "4102444800.5",
            "1.7958e9",
            "null",
            "true",
            "[[[[[[[[",
            "]]]]]]]]",
            "\\u00e9",
            "\\",
        ])
        .prop_map(|piece| piece.as_bytes().to_vec());
        prop_oneof![byte, piece]
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        Insert(usize, Vec<u8>),
        Delete(usize, usize),
        Replace(usize, Vec<u8>),
        Repeat(usize, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), splice()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
            (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Delete(at, len)),
            (any::<usize>(), splice()).prop_map(|(at, bytes)| Mutation::Replace(at, bytes)),
            (any::<usize>(), 1usize..24).prop_map(|(at, len)| Mutation::Repeat(at, len)),
        ]
    }

    fn mutate(mut json: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
        for mutation in mutations {
            let len = json.len();
            let at = |position: usize| if len == 0 { 0 } else { position % (len + 1) };
            match mutation {
                Mutation::Insert(position, bytes) => {
                    let at = at(*position);
                    json.splice(at..at, bytes.iter().copied());
                }
                Mutation::Delete(position, count) => {
                    let at = at(*position);
                    json.drain(at..(at + count).min(len));
                }
                Mutation::Replace(position, bytes) => {
                    let at = at(*position);
                    let end = (at + bytes.len()).min(len);
                    json.splice(at..end, bytes.iter().copied());
                }
                Mutation::Repeat(position, count) => {
                    let at = at(*position);
                    let piece = json[at..(at + count).min(len)].to_vec();
                    json.splice(at..at, piece);
                }
            }
        }
        json
    }

    fn claims_to_mutate() -> impl Strategy<Value = Vec<u8>> {
        let mut seeds = conformance_corpus();
        seeds.push(REGARDS.as_bytes().to_vec());
        seeds.push(
            regards_with(r#""accessGroups":["g1","g2"],"nbf":1.5,"aud":"a","x":[{"y":-0.5e-3}]"#)
                .into_bytes(),
        );
        proptest::sample::select(seeds)
    }

    /// JSON whitespace, mostly none.
    fn whitespace() -> impl Strategy<Value = String> {
        prop_oneof![4 => Just(String::new()), 1 => "[ \t\n\r]{1,3}"]
    }

    /// A number in any of JSON's forms, from 0 to far beyond a double.
    fn number() -> impl Strategy<Value = String> {
        "-?(0|[1-9][0-9]{0,24}|[1-9][0-9]{300,310})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?"
    }

    /// A string, with escapes of every kind and characters beyond ASCII.
    fn string() -> impl Strategy<Value = String> {
        let piece = proptest::sample::select(vec![
            "a",
            "ADMIN",
            "project1",
            "jane@regards.fr",
            " ",
            r"\u00e9",
            r"\u0000",
            r"\n",
            r#"\""#,
            r"\\",
            r"\/",
            r"\t",
            r"\ud83d\ude00",
            "\u{e9}",
            "\u{1f600}",
            "ROLE_",
            "SYS_x",
            r"\u0072ole",
        ]);
        proptest::collection::vec(piece, 0..5).prop_map(|pieces| format!("\"{}\"", pieces.concat()))
    }

    /// Any JSON value, containers nested a little.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            number(),
            string(),
            proptest::sample::select(vec!["true", "false", "null"]).prop_map(String::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                (proptest::collection::vec((whitespace(), inner.clone()), 0..4)).prop_map(
                    |items| {
                        let items: Vec<String> = items.into_iter().map(|(ws, v)| ws + &v).collect();
                        format!("[{}]", items.join(","))
                    }
                ),
                (proptest::collection::vec((string(), whitespace(), inner), 0..4)).prop_map(
                    |members| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(name, ws, v)| format!("{name}{ws}:{ws}{v}"))
                            .collect();
                        format!("{{{}}}", members.join(","))
                    }
                ),
            ]
        })
    }

    /// A member of a claims set: mostly a REGARDS member with a value of its type, sometimes
    /// anything else.
    fn member() -> impl Strategy<Value = String> {
        let date = prop_oneof![
            3 => "[1-9][0-9]{9}".prop_map(String::from),
            1 => number(),
            1 => value(),
        ];
        let text = prop_oneof![5 => string(), 1 => value()];
        let groups = prop_oneof![
            3 => proptest::collection::vec(string(), 0..3).prop_map(|g| format!("[{}]", g.join(","))),
            1 => value(),
        ];
        prop_oneof![
            1 => text.clone().prop_map(|v| format!(r#""sub":{v}"#)),
            1 => text.clone().prop_map(|v| format!(r#""email":{v}"#)),
            1 => text.clone().prop_map(|v| format!(r#""role":{v}"#)),
            1 => text.prop_map(|v| format!(r#""tenant":{v}"#)),
            1 => date.clone().prop_map(|v| format!(r#""exp":{v}"#)),
            3 => date.prop_map(|v| format!(r#""nbf":{v}"#)),
            3 => groups.prop_map(|v| format!(r#""accessGroups":{v}"#)),
            20 => (string(), value()).prop_map(|(name, v)| format!("{name}:{v}")),
        ]
    }

    /// Claims sets that are mostly REGARDS': the required members (each sometimes missing),
    /// a few others, in any order, sometimes twice.
    fn generated_claims() -> impl Strategy<Value = Vec<u8>> {
        let required = [
            r#""sub":"jane@regards.fr""#,
            r#""email":"jane@regards.fr""#,
            r#""role":"ADMIN""#,
            r#""tenant":"project1""#,
            r#""exp":4102444800"#,
        ]
        .map(|member| prop_oneof![9 => Just(Some(member.to_owned())), 1 => Just(None)]);
        (
            required,
            proptest::collection::vec(member(), 0..4),
            whitespace(),
            any::<u64>(),
        )
            .prop_map(|(required, others, ws, order)| {
                let mut members: Vec<String> =
                    required.into_iter().flatten().chain(others).collect();
                let len = members.len().max(1);
                members.rotate_left(order as usize % len);
                format!(
                    "{ws}{{{ws}{}{ws}}}{ws}",
                    members.join(&format!("{ws},{ws}"))
                )
                .into_bytes()
            })
    }

    proptest! {
        #![proptest_config(Config::with_cases(3000))]

        #[test]
        fn reader_agrees_with_serde_json_on_generated_claims(json in generated_claims()) {
            if let Some(difference) = disagreement(&json) {
                prop_assert!(false, "{}: {}", difference, String::from_utf8_lossy(&json));
            }
        }

        #[test]
        fn reader_agrees_with_serde_json_on_mutated_claims(
            claims in claims_to_mutate(),
            mutations in proptest::collection::vec(mutation(), 1..6),
        ) {
            let json = mutate(claims, &mutations);
            if let Some(difference) = disagreement(&json) {
                prop_assert!(false, "{}: {}", difference, String::from_utf8_lossy(&json));
            }
        }
    }
}
