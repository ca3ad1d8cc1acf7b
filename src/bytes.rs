//! Searching bytes eight at a time (one `u64` per step, no `unsafe`, no SIMD intrinsics): the
//! dots of a token, the bytes that end the plain text of a JSON string.

/// `0x80` in every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// `0x7f` in every byte.
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// `0x80` in each byte of `word` equal to `byte`, `0` in the others: exact, no carry crosses a
/// byte (the low seven bits are added apart from the eighth).
pub(crate) const fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * byte as u64);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// `0x80` in the first byte of `word` that is a quote, a backslash or a control character (what
/// ends the plain text of a JSON string), and maybe in bytes after it: only the first mark is
/// exact (a borrow runs upward only, from a byte that is marked), for twelve operations where
/// three exact tests take twenty.
pub(crate) const fn first_string_stop(word: u64) -> u64 {
    /// Marks the bytes of `x` below `limit` (and maybe bytes after the first of them).
    const fn below(x: u64, limit: u8) -> u64 {
        x.wrapping_sub(ONES * limit as u64) & !x
    }
    let quote = word ^ (ONES * b'"' as u64);
    let backslash = word ^ (ONES * b'\\' as u64);
    (below(quote, 1) | below(backslash, 1) | below(word, 0x20)) & HIGH
}

/// Where the first byte `flags` marks is among the eight of its word (read little-endian: the
/// first byte is the lowest).
pub(crate) const fn first_flagged(flags: u64) -> usize {
    flags.trailing_zeros() as usize / 8
}

/// Where the last byte `flags` marks is among the eight of its word.
pub(crate) const fn last_flagged(flags: u64) -> usize {
    7 - flags.leading_zeros() as usize / 8
}

/// The little-endian word of `bytes[at..at + 8]`, if there are eight bytes there.
pub(crate) fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(chunk.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_mark_exactly_the_bytes_they_name() {
        for value in 0..=255u8 {
            for position in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[position] = value;
                // Every other byte is a neighbour that could carry into this one.
                for neighbour in [0x00, 0x1f, 0x20, 0x2e, 0x7f, 0x80, 0xff] {
                    for (i, byte) in bytes.iter_mut().enumerate() {
                        if i != position {
                            *byte = neighbour;
                        }
                    }
                    let word = u64::from_le_bytes(bytes);
                    for byte in [b'.', b'"', 0x00, 0x80] {
                        let expected: u64 = (0..8)
                            .filter(|&i| bytes[i] == byte)
                            .map(|i| 0x80 << (8 * i))
                            .sum();
                        assert_eq!(equal_bytes(word, byte), expected, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_first_string_stop_is_exact() {
        let is_stop = |byte: u8| byte == b'"' || byte == b'\\' || byte < 0x20;
        for first in 0..=255u8 {
            for position in 0..8 {
                for after in [0x00, 0x1f, 0x22, 0x5c, 0x61, 0x80, 0xff] {
                    let mut bytes = [b'a'; 8];
                    bytes[position] = first;
                    bytes[position + 1..].fill(after);
                    let expected = bytes.iter().position(|&byte| is_stop(byte));
                    let stops = first_string_stop(u64::from_le_bytes(bytes));
                    assert_eq!(
                        (stops != 0).then(|| first_flagged(stops)),
                        expected,
                        "{bytes:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn first_and_last_flagged_read_little_endian() {
        let word = u64::from_le_bytes(*b"ab.cd.ef");
        let dots = equal_bytes(word, b'.');
        assert_eq!((first_flagged(dots), last_flagged(dots)), (2, 5));
        assert_eq!(
            word_at(b"0123456789", 2),
            Some(u64::from_le_bytes(*b"23456789"))
        );
        assert_eq!(word_at(b"0123456789", 3), None);
    }
}
