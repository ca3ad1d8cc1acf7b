//! A role's address patterns (REGARDS' `authorizedAddresses`), compiled within budgets.
//!
//! Patterns come from project administrators through rs-admin, so they are untrusted input:
//! what one pattern, one role and one project may cost is bounded here, and compiling them is
//! kept off the async runtime by the caller (see `ProjectRights::build`).
//!
//! Java's filter tests `Pattern.compile(p).matcher(address).matches()` for each pattern alone.
//! Each pattern is therefore parsed alone, as it is written (flags, verbose-mode comments and
//! all), anchored at both ends as a parsed expression, and only then put with the role's other
//! patterns into one multi-pattern matcher: no administrator's text is ever spliced into
//! another's, so no pattern can reach outside itself.
//!
//! The text matched is an address (at most 39 ASCII characters: see `any_address_text`), so
//! every class and literal is cut down to ASCII after parsing. On such text this changes no
//! verdict, it makes Java's ASCII `\d`, `\w` and `\s` and Rust's Unicode ones agree, and it
//! keeps `\w{20}` a few hundred bytes of program instead of hundreds of KiB.

use std::fmt;

use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_syntax::hir::{
    self, Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look,
};

/// The longest pattern read, in bytes: an address pattern is a few dozen characters.
pub const MAX_PATTERN_LENGTH: usize = 256;
/// The most patterns one role may have.
pub const MAX_PATTERNS_PER_ROLE: usize = 32;
/// The most patterns one project's roles may have in all.
pub const MAX_PATTERNS_PER_PROJECT: usize = 256;
/// The most memory compiling one pattern's program (its Thompson NFA) may take, in bytes.
/// Address patterns take one to five KiB (`10\.0\.0\.\d{1,3}`: under 1 KiB).
pub const MAX_PATTERN_PROGRAM: usize = 32 << 10;
/// The most memory compiling one role's patterns together may take, in bytes.
pub const MAX_ROLE_PROGRAM: usize = 128 << 10;

/// How deep groups and repetitions may nest in one pattern.
const NEST_LIMIT: u32 = 16;
/// The lazy DFA's cache per matcher and thread: addresses are short, a few states suffice.
const LAZY_DFA_CACHE: usize = 16 << 10;

/// Why a role's patterns were refused (the role is then refused everywhere until fixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A pattern is not a valid regular expression.
    Invalid,
    /// A pattern is longer than [`MAX_PATTERN_LENGTH`].
    TooLong,
    /// The role has more than [`MAX_PATTERNS_PER_ROLE`] patterns.
    TooMany,
    /// The project's roles have more than [`MAX_PATTERNS_PER_PROJECT`] patterns in all, and
    /// this role's would go past it.
    ProjectBudget,
    /// A pattern needs more than [`MAX_PATTERN_PROGRAM`], or the role's together more than
    /// [`MAX_ROLE_PROGRAM`].
    TooLarge,
}

impl Refusal {
    /// What an administrator should fix, for the log.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::Invalid => "an authorized address is not a valid pattern",
            Refusal::TooLong => "an authorized address pattern is longer than 256 bytes",
            Refusal::TooMany => "the role has more than 32 authorized address patterns",
            Refusal::ProjectBudget => {
                "the project's roles have more than 256 authorized address patterns in all"
            }
            Refusal::TooLarge => {
                "an authorized address pattern compiles to more than the program size budget"
            }
        }
    }
}

/// A role's compiled address patterns: the client address must match one of them whole.
#[derive(Clone)]
pub(crate) struct AddressPatterns {
    matcher: Regex,
}

impl fmt::Debug for AddressPatterns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressPatterns").finish_non_exhaustive()
    }
}

impl AddressPatterns {
    /// Compiles `patterns` (at least one), each to be matched whole and alone, within the
    /// budgets. Takes a few microseconds per pattern: callers on an async runtime run it on a
    /// blocking thread.
    pub(crate) fn compile<S: AsRef<str>>(patterns: &[S]) -> Result<Self, Refusal> {
        if patterns.len() > MAX_PATTERNS_PER_ROLE {
            return Err(Refusal::TooMany);
        }
        let anchored = patterns
            .iter()
            .map(|pattern| anchored(pattern.as_ref()))
            .collect::<Result<Vec<Hir>, Refusal>>()?;
        let config = meta::Config::new()
            .which_captures(WhichCaptures::None)
            .nfa_size_limit(Some(MAX_ROLE_PROGRAM))
            .onepass_size_limit(Some(MAX_ROLE_PROGRAM))
            .dfa_size_limit(Some(MAX_ROLE_PROGRAM))
            .hybrid_cache_capacity(LAZY_DFA_CACHE);
        let matcher = meta::Builder::new()
            .configure(config)
            .build_many_from_hir(&anchored)
            .map_err(|_| Refusal::TooLarge)?;
        Ok(AddressPatterns { matcher })
    }

    /// Whether `address` matches one of the patterns whole.
    pub(crate) fn is_match(&self, address: &str) -> bool {
        self.matcher.is_match(address)
    }
}

/// One pattern, parsed alone, cut down to ASCII, checked against the per-pattern program
/// budget, and anchored at both ends.
fn anchored(pattern: &str) -> Result<Hir, Refusal> {
    if pattern.len() > MAX_PATTERN_LENGTH {
        return Err(Refusal::TooLong);
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .nest_limit(NEST_LIMIT)
        .build()
        .parse(pattern)
        .map_err(|_| Refusal::Invalid)?;
    let whole = Hir::concat(vec![
        Hir::look(Look::Start),
        ascii_only(&parsed),
        Hir::look(Look::End),
    ]);
    // The per-pattern budget: compiling the NFA alone is cheap (no DFA, no cache), and tells
    // which pattern is at fault rather than only that the role's are too large together.
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(MAX_PATTERN_PROGRAM)),
        )
        .build_from_hir(&whole)
        .map_err(|_| Refusal::TooLarge)?;
    Ok(whole)
}

/// `hir` with every class and literal restricted to ASCII: the same verdict on ASCII text.
/// Captures are dropped (nothing reads them). Recursion is bounded by the parser's nest limit.
fn ascii_only(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(hir::Literal(bytes)) if bytes.is_ascii() => Hir::literal(bytes.clone()),
        // A non-ASCII literal can never be part of an address.
        HirKind::Literal(_) => Hir::fail(),
        HirKind::Class(Class::Unicode(class)) => {
            let mut class = class.clone();
            class.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7f')]));
            Hir::class(Class::Unicode(class))
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut class = class.clone();
            class.intersect(&ClassBytes::new([ClassBytesRange::new(0, 0x7f)]));
            Hir::class(Class::Bytes(class))
        }
        HirKind::Look(look) => Hir::look(*look),
        HirKind::Repetition(repetition) => Hir::repetition(hir::Repetition {
            min: repetition.min,
            max: repetition.max,
            greedy: repetition.greedy,
            sub: Box::new(ascii_only(&repetition.sub)),
        }),
        HirKind::Capture(capture) => ascii_only(&capture.sub),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(ascii_only).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(ascii_only).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(patterns: &[&str], address: &str) -> bool {
        AddressPatterns::compile(patterns)
            .unwrap()
            .is_match(address)
    }

    #[test]
    fn each_pattern_matches_the_whole_address() {
        assert!(matches(&[r"10\.0\.0\.\d{1,3}"], "10.0.0.5"));
        assert!(!matches(&[r"10\.0\.0\.\d{1,3}"], "10.0.0.5000"));
        assert!(!matches(&[r"10\.0\.0\.\d{1,3}"], "110.0.0.5"));
        assert!(matches(&[r"192\.0\.2\.1", r"10\..*"], "10.9.9.9"));
        assert!(!matches(&[r"192\.0\.2\.1", r"10\..*"], "192.0.2.17"));
    }

    #[test]
    fn a_verbose_mode_comment_ends_with_its_own_pattern() {
        // Spliced as text, the comment would swallow the end of the alternation and the next
        // pattern's newline would end it, leaving `10\..*`: any 10.x address.
        assert!(!matches(&[r"(?x)10\.#", "\n.*"], "10.1.2.3"));
        // And a trailing comment no longer swallows the closing anchors.
        assert!(matches(
            &[r"(?x) 10\.0\.0\.\d{1,3}  # office LAN"],
            "10.0.0.5"
        ));
    }

    #[test]
    fn a_pattern_that_closes_its_group_is_invalid_as_in_java() {
        assert_eq!(
            AddressPatterns::compile(&[r"10\.0\.0\.1)|(.*"]).err(),
            Some(Refusal::Invalid)
        );
    }

    #[test]
    fn flags_stay_within_their_pattern() {
        // `(?i)` in the first pattern does not make the second case-insensitive.
        let patterns = [r"(?i)fe80:.*", r"2001:DB8:.*"];
        assert!(matches(&patterns, "FE80:0:0:0:0:0:0:1"));
        assert!(!matches(&patterns, "2001:db8:0:0:0:0:0:1"));
    }

    #[test]
    fn perl_classes_are_read_on_ascii_as_java_reads_them() {
        assert!(matches(&[r"\w+\.\d+\.\S+\.\d"], "10.0.0.5"));
        assert!(!matches(&["é.*"], "10.0.0.5"));
        assert!(matches(&[r"[^é]+"], "10.0.0.5"));
    }

    #[test]
    fn over_budget_patterns_are_refused_with_the_reason() {
        let too_long = format!("{}.*", "1".repeat(MAX_PATTERN_LENGTH));
        assert_eq!(
            AddressPatterns::compile(&[too_long]).err(),
            Some(Refusal::TooLong)
        );
        let too_many = vec![r"10\.0\.0\.1"; MAX_PATTERNS_PER_ROLE + 1];
        assert_eq!(
            AddressPatterns::compile(&too_many).err(),
            Some(Refusal::TooMany)
        );
        assert_eq!(
            AddressPatterns::compile(&["(a|b|c|d){1000}"]).err(),
            Some(Refusal::TooLarge)
        );
        assert_eq!(
            AddressPatterns::compile(&["((((((((((((((((((a))))))))))))))))))"]).err(),
            Some(Refusal::Invalid),
            "nested deeper than the limit"
        );
    }

    #[test]
    fn patterns_that_fit_alone_can_be_too_large_together() {
        // Each needs ~8 KiB of program: fine alone, past the role's budget together.
        let big = r"\d{0,50}\.\d{0,50}\.\d{0,50}";
        assert!(AddressPatterns::compile(&[big]).is_ok());
        let together = vec![big; MAX_PATTERNS_PER_ROLE];
        assert_eq!(
            AddressPatterns::compile(&together).err(),
            Some(Refusal::TooLarge)
        );
    }

    #[test]
    fn unicode_classes_cost_ascii_programs() {
        // `\w{20}` is 350 KiB of program with Unicode classes, under 2 KiB on ASCII.
        assert!(AddressPatterns::compile(&[r"\w{20}"; MAX_PATTERNS_PER_ROLE]).is_ok());
    }
}
