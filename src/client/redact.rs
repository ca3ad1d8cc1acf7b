//! Keeping secrets out of error texts. What a token endpoint answers, or a transport's error
//! says, is quoted in a [`ClientError`](super::ClientError) only:
//!
//! - if it holds no token (no JWT-shaped string, no `access_token` or `refresh_token` member):
//!   a text that does is withheld whole, whatever the status;
//! - after every occurrence of a secret (the password, the client secret, the `Basic` value) is
//!   redacted, over the whole text, in each form a server may echo it in: raw,
//!   percent-encoded (`%20` or `+` for a space, either hex case), JSON-escaped (`\"`, `\uHHHH`,
//!   surrogate pairs) or HTML-escaped (`&quot;`, `&#39;`...), or any mix of them;
//! - then with control characters replaced, cut to [`BODY_EXCERPT_LEN`] bytes on a character
//!   boundary.
//!
//! Redacting before cutting matters: a secret that straddles the cut would otherwise be quoted
//! in part.

use std::error::Error;
use std::ops::Range;

use super::error::BODY_EXCERPT_LEN;

/// What replaces each secret.
const REDACTED: &str = "<redacted>";
/// What an error shows instead of a text that holds a token.
pub(crate) const WITHHELD: &str = "<withheld: it holds a token>";

/// A bounded, printable excerpt of a body, with every secret redacted.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    quote(&String::from_utf8_lossy(body), secrets)
}

/// The error and its sources, one after the other, quoted as a body is.
pub(crate) fn error_chain(error: &(dyn Error + 'static), secrets: &[&str]) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    quote(&message, secrets)
}

fn quote(text: &str, secrets: &[&str]) -> String {
    if holds_token(text) {
        return WITHHELD.to_owned();
    }
    let printable: String = redact(text, secrets)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let printable = printable.trim();
    if printable.len() <= BODY_EXCERPT_LEN {
        return printable.to_owned();
    }
    let mut end = BODY_EXCERPT_LEN;
    while !printable.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", printable[..end].trim_end())
}

/// Whether `text` holds what looks like a token: a JWT (three base64url segments joined by
/// dots, the first starting with `eyJ`, the encoding of `{"`), or a token answer's member.
fn holds_token(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if lower.contains("access_token") || lower.contains("refresh_token") {
        return true;
    }
    let bytes = text.as_bytes();
    let segment = |from: usize| {
        from + bytes[from..]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            .count()
    };
    text.match_indices("eyJ").any(|(start, _)| {
        let first = segment(start);
        bytes.get(first) == Some(&b'.') && {
            let second = segment(first + 1);
            bytes.get(second) == Some(&b'.')
        }
    })
}

/// `text` with every occurrence of every secret, in any form [`readings`] knows, replaced by
/// `<redacted>`. Occurrences are found in the original text and merged, so that redacting one
/// secret cannot hide or forge an occurrence of another.
fn redact(text: &str, secrets: &[&str]) -> String {
    let mut found: Vec<Range<usize>> = Vec::new();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        let secret: Vec<char> = secret.chars().collect();
        for (start, _) in text.char_indices() {
            if let Some(end) = occurrence_at(text, start, &secret) {
                found.push(start..end);
            }
        }
    }
    if found.is_empty() {
        return text.to_owned();
    }
    found.sort_by_key(|range| range.start);
    let mut redacted = String::with_capacity(text.len());
    let mut copied = 0;
    for range in found {
        if range.start >= copied {
            redacted.push_str(&text[copied..range.start]);
            redacted.push_str(REDACTED);
        } else if range.end > copied {
            // Overlaps the previous occurrence: extend it.
        } else {
            continue;
        }
        copied = range.end;
    }
    redacted.push_str(&text[copied..]);
    redacted
}

/// Where an occurrence of `secret` starting at byte `start` of `text` ends, if there is one.
/// Each character of the secret may be written in any form, so the possible ends after each
/// character are tracked as a set (a form can be a prefix of another: `%` and `%25`).
fn occurrence_at(text: &str, start: usize, secret: &[char]) -> Option<usize> {
    let mut ends = vec![start];
    let mut next = Vec::new();
    for &wanted in secret {
        next.clear();
        for &at in &ends {
            readings(text, at, |read, end| {
                if read == wanted && !next.contains(&end) {
                    next.push(end);
                }
            });
        }
        if next.is_empty() {
            return None;
        }
        std::mem::swap(&mut ends, &mut next);
    }
    ends.into_iter().max()
}

/// Calls `found(character, end)` for each way the text at byte `at` can be read as one
/// character: as is, percent-encoded, `+` for a space, a JSON escape, an HTML entity.
fn readings(text: &str, at: usize, mut found: impl FnMut(char, usize)) {
    let rest = &text[at..];
    let Some(first) = rest.chars().next() else {
        return;
    };
    found(first, at + first.len_utf8());
    match first {
        '+' => found(' ', at + 1),
        '%' => {
            if let Some((c, len)) = percent_decoded(rest) {
                found(c, at + len);
            }
        }
        '\\' => {
            if let Some((c, len)) = json_unescaped(rest) {
                found(c, at + len);
            }
        }
        '&' => {
            if let Some((c, len)) = html_unescaped(rest) {
                found(c, at + len);
            }
        }
        _ => {}
    }
}

/// The character that `%HH` triples at the start of `text` encode (in UTF-8), and their length.
fn percent_decoded(text: &str) -> Option<(char, usize)> {
    let byte_at = |i: usize| {
        let triple = text.get(3 * i..3 * i + 3)?;
        let hex = triple.strip_prefix('%')?;
        u8::from_str_radix(hex, 16).ok()
    };
    let lead = byte_at(0)?;
    let len = match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let mut bytes = [0u8; 4];
    for (i, byte) in bytes.iter_mut().enumerate().take(len) {
        *byte = byte_at(i)?;
    }
    let c = std::str::from_utf8(&bytes[..len]).ok()?.chars().next()?;
    Some((c, 3 * len))
}

/// The character a JSON escape at the start of `text` stands for, and its length.
fn json_unescaped(text: &str) -> Option<(char, usize)> {
    let escaped = text.as_bytes().get(1)?;
    let short = match escaped {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = |from: usize| {
                let escape = text.get(from..from + 6)?;
                let hex = escape.strip_prefix("\\u")?;
                u32::from_str_radix(hex, 16).ok()
            };
            let high = unit(0)?;
            if let Some(c) = char::from_u32(high) {
                return Some((c, 6));
            }
            let low = unit(6)?;
            let c = char::decode_utf16([high as u16, low as u16]).next()?.ok()?;
            return Some((c, 12));
        }
        _ => return None,
    };
    Some((short, 2))
}

/// The character an HTML entity at the start of `text` stands for, and its length.
fn html_unescaped(text: &str) -> Option<(char, usize)> {
    // The longest entity read: `&#x10FFFF;`.
    let end = text.char_indices().take(11).find(|&(_, c)| c == ';')?.0;
    let name = &text[1..end];
    let c = match name {
        "quot" => '"',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded() {
        let body = vec![b'a'; 10_000];
        let text = excerpt(&body, &[]);
        assert!(text.len() <= BODY_EXCERPT_LEN + '…'.len_utf8());
        assert!(text.ends_with('…'));
    }

    #[test]
    fn excerpt_is_cut_on_a_character_boundary() {
        let mut body = "x".repeat(BODY_EXCERPT_LEN - 1).into_bytes();
        body.extend_from_slice("éééé".as_bytes());
        let text = excerpt(&body, &[]);
        assert!(!text.contains('\u{fffd}'), "{text}");
        assert_eq!(text, format!("{}…", "x".repeat(BODY_EXCERPT_LEN - 1)));
    }

    #[test]
    fn excerpt_redacts_raw_and_encoded_secrets() {
        let text = excerpt(b"bad login p@ss w0rd or p%40ss+w0rd", &["p@ss w0rd"]);
        assert_eq!(text, "bad login <redacted> or <redacted>");
    }

    #[test]
    fn excerpt_redacts_a_secret_written_in_mixed_forms() {
        let body = r#"p%40ss%20w\u00f6rd&amp; p@ss+w%C3%B6rd\u0026 p&#64;ss w&#xF6;rd&"#;
        let text = excerpt(body.as_bytes(), &["p@ss wörd&"]);
        assert_eq!(text, "<redacted> <redacted> <redacted>");
    }

    #[test]
    fn secret_beyond_the_basic_plane_is_redacted_as_a_surrogate_pair() {
        let text = excerpt(br#"{"password":"ab\ud83d\ude00cd"}"#, &["ab😀cd"]);
        assert_eq!(text, r#"{"password":"<redacted>"}"#);
    }

    #[test]
    fn overlapping_secrets_are_redacted_as_one() {
        let text = excerpt(b"[abcdefgh]", &["abcdef", "defgh"]);
        assert_eq!(text, "[<redacted>]");
    }

    #[test]
    fn excerpt_replaces_control_characters() {
        assert_eq!(excerpt(b"a\r\nb\x1b[31m", &[]), "a  b [31m");
    }

    #[test]
    fn secret_holding_a_control_character_is_redacted_before_it_is_replaced() {
        assert_eq!(
            excerpt(b"x pass\tword y", &["pass\tword"]),
            "x <redacted> y"
        );
    }

    #[test]
    fn text_holding_a_jwt_or_a_token_member_is_withheld() {
        for text in [
            "token eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhIn0.c2ln here",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",
            r#"{"Access_Token":"opaque"}"#,
            "refresh_token=abc",
        ] {
            assert_eq!(excerpt(text.as_bytes(), &[]), WITHHELD, "{text}");
        }
        assert_eq!(excerpt(b"eyJ is not a token.", &[]), "eyJ is not a token.");
    }
}
