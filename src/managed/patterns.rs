//! A role's address patterns (REGARDS' `authorizedAddresses`), compiled within budgets.
//!
//! Patterns come from project administrators through rs-admin, so they are untrusted input:
//! what one pattern, one role and one project may cost is bounded here, and compiling them is
//! kept off the async runtime by the caller (see `ProjectRights::build`).
//!
//! Java's filter tests `Pattern.compile(p).matcher(address).matches()` for each pattern alone.
//! Each pattern is therefore parsed alone, as it is written (flags, verbose-mode comments and
//! all), anchored at both ends as a parsed expression, and only then put with the role's other
//! patterns into one automaton: no administrator's text is ever spliced into another's, so no
//! pattern can reach outside itself.
//!
//! Patterns are read as Java reads them on the text they are matched against, an address (at
//! most 39 ASCII characters, see `any_address_text`):
//! - on ASCII, as Java's defaults are: `\d`, `\w`, `\s`, `\b` and `(?i)` are ASCII ones, and a
//!   non-ASCII literal matches nothing. No Unicode table is consulted, so no pattern can make
//!   parsing fold a million code points;
//! - syntax that Rust's parser accepts with another meaning than Java's, or that Java does not
//!   have, is refused (the role is then refused: failing closed): POSIX classes (`[[:digit:]]`,
//!   in Java a class of `:`, `d`, `i`...), a quantifier on a quantifier (Java's possessive `*+`
//!   or a stacked `{1}{2}`), class set operations, `\p{..}`, the `u`, `U` and `R` flags, `(?P<`
//!   groups, and assertions other than `^ $ \A \z \b \B`. Constructs Java has and Rust does not
//!   (back-references, look-around, `\Q..\E`, `\Z`) do not parse, and are refused too.
//!
//! A role's patterns become one dense DFA, built within a size limit: matching an address is
//! at most 39 table steps, with no cache and no allocation, whatever the patterns.

use std::fmt;

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson::{self, NFA, WhichCaptures};
use regex_automata::{Anchored, Input};
use regex_syntax::ast::{self, Ast, ClassSetItem, Visitor};
use regex_syntax::hir::{self, Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look};

/// The longest pattern read, in bytes: an address pattern is a few dozen characters.
pub const MAX_PATTERN_LENGTH: usize = 256;
/// The most patterns one role may have.
pub const MAX_PATTERNS_PER_ROLE: usize = 32;
/// The most patterns one project's roles may have in all.
pub const MAX_PATTERNS_PER_PROJECT: usize = 256;
/// The most memory compiling one pattern's program (its Thompson NFA) may take, in bytes.
/// Address patterns take a few hundred bytes to two KiB (`10\.0\.0\.\d{1,3}`: 680 bytes).
pub const MAX_PATTERN_PROGRAM: usize = 8 << 10;
/// The most memory compiling one role's patterns together may take, in bytes.
pub const MAX_ROLE_PROGRAM: usize = 32 << 10;
/// The most memory one role's matcher (a DFA) may take, and building it, in bytes.
pub const MAX_ROLE_MATCHER: usize = 64 << 10;
/// The most memory a project's matchers may take in all, in bytes; building them may not
/// attempt more (a role whose matcher could not be built within what was left counts what it
/// was allowed).
pub const MAX_PROJECT_MATCHERS: usize = 1 << 20;

/// How deep groups and repetitions may nest in one pattern.
const NEST_LIMIT: u32 = 16;

/// Why a role's patterns were refused (the role is then refused everywhere until fixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A pattern is not a valid regular expression, or uses syntax Java reads otherwise.
    Invalid,
    /// A pattern is longer than [`MAX_PATTERN_LENGTH`].
    TooLong,
    /// The role has more than [`MAX_PATTERNS_PER_ROLE`] patterns.
    TooMany,
    /// The project's roles have more patterns than [`MAX_PATTERNS_PER_PROJECT`], or need more
    /// than [`MAX_PROJECT_MATCHERS`], and this role's would go past it.
    ProjectBudget,
    /// A pattern needs more than [`MAX_PATTERN_PROGRAM`], the role's together more than
    /// [`MAX_ROLE_PROGRAM`], or their matcher more than [`MAX_ROLE_MATCHER`].
    TooLarge,
}

impl Refusal {
    /// What an administrator should fix, for the log.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::Invalid => {
                "an authorized address is not a valid pattern, or uses syntax Java reads otherwise"
            }
            Refusal::TooLong => "an authorized address pattern is longer than 256 bytes",
            Refusal::TooMany => "the role has more than 32 authorized address patterns",
            Refusal::ProjectBudget => {
                "the project's roles have more authorized address patterns than it may compile"
            }
            Refusal::TooLarge => {
                "the role's authorized address patterns compile past the size budget"
            }
        }
    }
}

/// A role's compiled address patterns: the client address must match one of them whole.
#[derive(Clone)]
pub(crate) struct AddressPatterns {
    dfa: dense::DFA<Vec<u32>>,
}

impl fmt::Debug for AddressPatterns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressPatterns")
            .field("bytes", &self.dfa.memory_usage())
            .finish_non_exhaustive()
    }
}

impl AddressPatterns {
    /// Compiles `patterns` (at least one), each to be matched whole and alone, within the
    /// budgets, the matcher within `matcher_limit` bytes (at most [`MAX_ROLE_MATCHER`]).
    /// Bounded work, yet callers on an async runtime run it on a blocking thread.
    pub(crate) fn compile<S: AsRef<str>>(
        patterns: &[S],
        matcher_limit: usize,
    ) -> Result<Self, Refusal> {
        if patterns.len() > MAX_PATTERNS_PER_ROLE {
            return Err(Refusal::TooMany);
        }
        let anchored = patterns
            .iter()
            .map(|pattern| anchored(pattern.as_ref()))
            .collect::<Result<Vec<Hir>, Refusal>>()?;
        let nfa = program(&anchored, MAX_ROLE_PROGRAM)?;
        let limit = Some(matcher_limit.min(MAX_ROLE_MATCHER));
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .start_kind(StartKind::Anchored)
                    .dfa_size_limit(limit)
                    .determinize_size_limit(limit),
            )
            .build_from_nfa(&nfa)
            .map_err(|error| match error.is_size_limit_exceeded() {
                true => Refusal::TooLarge,
                false => Refusal::Invalid,
            })?;
        Ok(AddressPatterns { dfa })
    }

    /// Whether `address` matches one of the patterns whole.
    pub(crate) fn is_match(&self, address: &str) -> bool {
        let input = Input::new(address).anchored(Anchored::Yes);
        matches!(self.dfa.try_search_fwd(&input), Ok(Some(_)))
    }

    /// The memory the matcher takes, in bytes.
    pub(crate) fn memory_usage(&self) -> usize {
        self.dfa.memory_usage()
    }
}

/// The Thompson NFA of `patterns` (already anchored), within `limit` bytes.
fn program(patterns: &[Hir], limit: usize) -> Result<NFA, Refusal> {
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(limit)),
        )
        .build_many_from_hir(patterns)
        .map_err(|error| match error.size_limit() {
            Some(_) => Refusal::TooLarge,
            None => Refusal::Invalid,
        })
}

/// One pattern, parsed alone as Java reads it on ASCII text, checked against the per-pattern
/// program budget, and anchored at both ends.
fn anchored(pattern: &str) -> Result<Hir, Refusal> {
    if pattern.len() > MAX_PATTERN_LENGTH {
        return Err(Refusal::TooLong);
    }
    let parsed = ast::parse::ParserBuilder::new()
        .nest_limit(NEST_LIMIT)
        .build()
        .parse(pattern)
        .map_err(|_| Refusal::Invalid)?;
    ast::visit(&parsed, JavaSyntax)?;
    let translated = hir::translate::TranslatorBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .translate(pattern, &parsed)
        .map_err(|_| Refusal::Invalid)?;
    let whole = Hir::concat(vec![
        Hir::look(Look::Start),
        ascii_only(&translated),
        Hir::look(Look::End),
    ]);
    // The per-pattern budget: compiling the NFA alone is cheap, and tells which pattern is at
    // fault rather than only that the role's are too large together.
    program(std::slice::from_ref(&whole), MAX_PATTERN_PROGRAM)?;
    Ok(whole)
}

/// Refuses what Rust's parser reads otherwise than Java's `Pattern` (see the module's docs).
struct JavaSyntax;

impl Visitor for JavaSyntax {
    type Output = ();
    type Err = Refusal;

    fn finish(self) -> Result<(), Refusal> {
        Ok(())
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Refusal> {
        let java = match ast {
            Ast::Repetition(repetition) => !matches!(*repetition.ast, Ast::Repetition(_)),
            Ast::ClassUnicode(_) => false,
            Ast::Flags(flags) => java_flags(&flags.flags),
            Ast::Group(group) => match &group.kind {
                ast::GroupKind::NonCapturing(flags) => java_flags(flags),
                ast::GroupKind::CaptureName { starts_with_p, .. } => !starts_with_p,
                ast::GroupKind::CaptureIndex(_) => true,
            },
            Ast::Assertion(assertion) => matches!(
                assertion.kind,
                ast::AssertionKind::StartLine
                    | ast::AssertionKind::EndLine
                    | ast::AssertionKind::StartText
                    | ast::AssertionKind::EndText
                    | ast::AssertionKind::WordBoundary
                    | ast::AssertionKind::NotWordBoundary
            ),
            _ => true,
        };
        if java { Ok(()) } else { Err(Refusal::Invalid) }
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Refusal> {
        match item {
            ClassSetItem::Ascii(_) | ClassSetItem::Unicode(_) => Err(Refusal::Invalid),
            _ => Ok(()),
        }
    }

    fn visit_class_set_binary_op_pre(&mut self, _: &ast::ClassSetBinaryOp) -> Result<(), Refusal> {
        Err(Refusal::Invalid)
    }
}

/// Whether Java reads these inline flags as Rust does: `i`, `m`, `s` and `x` mean the same;
/// `u` (Rust: Unicode classes; Java: Unicode case folding), `U` (Rust: lazy by default; Java:
/// Unicode classes) and `R` (Rust only) do not.
fn java_flags(flags: &ast::Flags) -> bool {
    flags.items.iter().all(|item| {
        !matches!(
            item.kind,
            ast::FlagsItemKind::Flag(ast::Flag::Unicode | ast::Flag::SwapGreed | ast::Flag::CRLF)
        )
    })
}

/// `hir` with every class and literal restricted to ASCII: the same verdict on ASCII text, and
/// a smaller program. Captures are dropped (nothing reads them). Recursion is bounded by the
/// parser's nest limit.
fn ascii_only(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(hir::Literal(bytes)) if bytes.is_ascii() => Hir::literal(bytes.clone()),
        // A non-ASCII literal can never be part of an address.
        HirKind::Literal(_) => Hir::fail(),
        HirKind::Class(class) => {
            let mut bytes = match class {
                Class::Bytes(bytes) => bytes.clone(),
                // Not produced with Unicode off; read through its ASCII part all the same.
                Class::Unicode(unicode) => {
                    ClassBytes::new(unicode.iter().filter(|range| range.start().is_ascii()).map(
                        |range| {
                            let end = range.end().min('\x7f');
                            ClassBytesRange::new(range.start() as u8, end as u8)
                        },
                    ))
                }
            };
            bytes.intersect(&ClassBytes::new([ClassBytesRange::new(0, 0x7f)]));
            Hir::class(Class::Bytes(bytes))
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

    fn compile(patterns: &[&str]) -> Result<AddressPatterns, Refusal> {
        AddressPatterns::compile(patterns, MAX_ROLE_MATCHER)
    }

    fn matches(patterns: &[&str], address: &str) -> bool {
        compile(patterns).unwrap().is_match(address)
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
            compile(&[r"10\.0\.0\.1)|(.*"]).err(),
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
    fn classes_and_boundaries_are_read_on_ascii_as_java_reads_them() {
        assert!(matches(&[r"\w+\.\d+\.\S+\.\d"], "10.0.0.5"));
        assert!(matches(&[r"\b10\.0\.0\.5\b"], "10.0.0.5"));
        assert!(matches(&[r"10\B0\.0\.0\.5"], "100.0.0.5"));
        // A non-ASCII literal matches nothing; in a class, it is refused.
        assert!(!matches(&["é.*"], "10.0.0.5"));
        assert_eq!(compile(&[r"[^é]+"]).err(), Some(Refusal::Invalid));
        assert!(matches(&[r"(?i)A:B:.*"], "a:b:0:0:0:0:0:1"));
    }

    #[test]
    fn syntax_java_reads_otherwise_is_refused() {
        for pattern in [
            r"[[:digit:]]+\.[[:digit:]]+\.[[:digit:]]+\.[[:digit:]]+",
            r"10\.0\.0\..*+5",
            r"\d{1}{2}\.0\.0\.5",
            r"\p{Any}+",
            r"\pN+",
            r"[0-9.--]+",
            r"[0-9&&[^5]]+",
            r"(?P<n>10)\..*",
            r"(?u)10\..*",
            r"(?U)10\..*",
            r"(?R)10\..*",
            r"\<10\..*",
        ] {
            assert_eq!(
                compile(&[pattern]).err(),
                Some(Refusal::Invalid),
                "{pattern}"
            );
        }
        // What Java has and reads the same: named groups, `\A`/`\z`, word boundaries.
        assert!(matches(&[r"(?<net>10)\..*\z"], "10.1.1.1"));
        assert!(matches(&[r"\A10\..*"], "10.1.1.1"));
    }

    #[test]
    fn over_budget_patterns_are_refused_with_the_reason() {
        let too_long = format!("{}.*", "1".repeat(MAX_PATTERN_LENGTH));
        assert_eq!(
            AddressPatterns::compile(&[too_long], MAX_ROLE_MATCHER).err(),
            Some(Refusal::TooLong)
        );
        let too_many = vec![r"10\.0\.0\.1"; MAX_PATTERNS_PER_ROLE + 1];
        assert_eq!(compile(&too_many).err(), Some(Refusal::TooMany));
        assert_eq!(compile(&["(a|b|c|d){1000}"]).err(), Some(Refusal::TooLarge));
        assert_eq!(
            compile(&["((((((((((((((((((a))))))))))))))))))"]).err(),
            Some(Refusal::Invalid),
            "nested deeper than the limit"
        );
    }

    #[test]
    fn patterns_that_fit_alone_can_be_too_large_together() {
        let big = r"\d{0,12}\.\d{0,12}\.\d{0,12}";
        assert!(compile(&[big]).is_ok());
        let together = vec![big; MAX_PATTERNS_PER_ROLE];
        assert_eq!(compile(&together).err(), Some(Refusal::TooLarge));
    }

    #[test]
    fn a_matcher_past_its_limit_is_too_large() {
        // Determinising this needs 2^16 states: the limit stops it early.
        let blow_up = r"[ab]*a[ab]{16}";
        assert_eq!(compile(&[blow_up]).err(), Some(Refusal::TooLarge));
        assert_eq!(
            AddressPatterns::compile(&[r"10\..*"], 64).err(),
            Some(Refusal::TooLarge)
        );
    }

    #[test]
    fn case_insensitive_classes_are_read_on_ascii() {
        // In Unicode mode each of these folds a million code points when parsed (0.27 s for a
        // 256-byte pattern); on ASCII they are 128 bytes each. `tests/managed_bounds.rs`
        // measures a project full of them.
        let heavy = format!("(?i){}", r"[\w\W]".repeat(40));
        assert!(matches(&[heavy.as_str()], &"a".repeat(40)));
        assert!(!matches(&[heavy.as_str()], "10.0.0.5"));
    }
}
