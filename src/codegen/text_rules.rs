//! The one place example strings for constrained text fields come from: the spec's
//! examples, the FastAPI and Express samples and tests all ask [`TextRules`], so a value
//! one of them shows is a value the others (and the generated servers) accept.
//!
//! Patterns follow JSON Schema: a value is valid when the pattern matches somewhere in
//! it (`regex::Regex::is_match`); anchor a pattern with `^…$` to constrain the whole
//! value. A string built from a pattern's syntax tree matches it from start to end, so
//! it satisfies both readings.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};

use super::openapi::{PHONE_PATTERN, TIME_PATTERN};
use crate::design::{Field, FieldType};

/// Longer minimum lengths are not worth examples (nor megabyte-sized test files).
const MAX_EXAMPLE_LENGTH: usize = 10_000;

/// How many longer repetitions are tried past the first long-enough one before a
/// pattern is given up on.
const EXTRA_TRIES: u32 = 24;

/// Characters a class example prefers, in order: readable and unremarkable.
const PREFERRED: [char; 6] = ['a', 'A', '1', '0', 'x', ' '];

/// The text constraints of one field: its own pattern, the pattern its type implies
/// (time, phone), and its length bounds in characters.
#[derive(Debug, Clone)]
pub struct TextRules {
    patterns: Vec<Pattern>,
    min_length: Option<u32>,
    max_length: Option<u32>,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// `None` when the pattern does not compile: then no value is allowed.
    regex: Option<Regex>,
    /// `None` when `regex_syntax` cannot parse it: then no value is generated from it.
    hir: Option<Hir>,
}

impl Pattern {
    fn new(source: &str) -> Self {
        Self {
            regex: Regex::new(source).ok(),
            hir: regex_syntax::Parser::new().parse(source).ok(),
        }
    }

    fn allows(&self, s: &str) -> bool {
        self.regex.as_ref().is_some_and(|re| re.is_match(s))
    }
}

impl TextRules {
    /// The rules of `field`: its own pattern first, then its type's.
    pub fn of(field: &Field) -> Self {
        let builtin = match field.ty {
            FieldType::Time => Some(TIME_PATTERN),
            FieldType::Phone => Some(PHONE_PATTERN),
            _ => None,
        };
        Self {
            patterns: field
                .pattern
                .as_deref()
                .into_iter()
                .chain(builtin)
                .map(Pattern::new)
                .collect(),
            min_length: field.min_length,
            max_length: field.max_length,
        }
    }

    /// Whether `s` respects every length bound and matches every pattern.
    pub fn allows(&self, s: &str) -> bool {
        let len = s.chars().count();
        self.min_length.is_none_or(|m| len >= m as usize)
            && self.max_length.is_none_or(|m| len <= m as usize)
            && self.patterns.iter().all(|p| p.allows(s))
    }

    /// The first of `guesses` the rules allow, else a string generated from the
    /// patterns within the length bounds; `None` when neither yields one. Different
    /// `variant`s give different generated strings wherever the patterns leave a choice.
    pub fn example(&self, guesses: &[String], variant: usize) -> Option<String> {
        if let Some(guess) = guesses.iter().find(|g| self.allows(g)) {
            return Some(guess.clone());
        }
        if self
            .min_length
            .is_some_and(|m| m as usize > MAX_EXAMPLE_LENGTH)
        {
            return None;
        }
        let hirs: Vec<&Hir> = self
            .patterns
            .iter()
            .filter_map(|p| p.hir.as_ref())
            .collect();
        for hir in &hirs {
            for branch in [Branch::First, Branch::Last] {
                if let Some(found) = self.stretched(hir, variant, branch, "", 0) {
                    return Some(found);
                }
            }
        }
        // A field's own pattern on top of its type's (a phone that must start with +44):
        // the shortest match of the first followed by a match of the second, minus the
        // start the two may share.
        if let [own, builtin] = hirs.as_slice() {
            let head = generate(own, 0, variant, Branch::First)?;
            return (0..3)
                .find_map(|skip| self.stretched(builtin, variant, Branch::First, &head, skip));
        }
        None
    }

    /// `prefix` followed by a match of `hir` without its first `skip` characters, its
    /// repetitions stretched until the whole is long enough, if some stretch is allowed.
    fn stretched(
        &self,
        hir: &Hir,
        variant: usize,
        branch: Branch,
        prefix: &str,
        skip: usize,
    ) -> Option<String> {
        let min = self.min_length.unwrap_or(0) as usize;
        let text = |extra: u32| {
            let s = generate(hir, extra, variant, branch)?;
            Some(
                prefix
                    .chars()
                    .chain(s.chars().skip(skip))
                    .collect::<String>(),
            )
        };
        let length = |extra: u32| text(extra).map(|s| s.chars().count());
        // Lengths grow with `extra`: find the least long enough one by doubling, then
        // halving, then try a few longer ones (a maximum may still be unmet).
        let mut high = 0u32;
        while length(high)? < min {
            if high > MAX_EXAMPLE_LENGTH as u32 {
                return None;
            }
            high = (high * 2).max(1);
        }
        let mut low = high / 2;
        while low < high {
            let mid = low + (high - low) / 2;
            if length(mid)? < min {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        (high..high.saturating_add(EXTRA_TRIES))
            .filter_map(text)
            .find(|s| self.allows(s))
    }
}

/// Which branch of an alternation a generated string takes.
#[derive(Debug, Clone, Copy)]
enum Branch {
    First,
    Last,
}

/// The string `pattern` matches when every repetition runs `extra` more times than
/// its minimum (within its maximum) and every class gives its preferred character, or
/// `None` when the pattern does not parse.
pub fn shortest_match(pattern: &str, extra: u32) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    generate(&hir, extra, 0, Branch::First)
}

/// A match of `hir`; `variant` counts through the classes' characters in mixed radix,
/// the last class fastest, so variants differ at the end first.
fn generate(hir: &Hir, extra: u32, variant: usize, branch: Branch) -> Option<String> {
    let mut atoms = Vec::new();
    let mut budget = ATOMISE_BUDGET;
    atomise(hir, extra, branch, &mut atoms, &mut budget)?;
    let mut rest = variant;
    let mut picks = vec![0usize; atoms.len()];
    for (pick, atom) in picks.iter_mut().zip(&atoms).rev() {
        if let Atom::Class(pool) = atom
            && pool.len() > 1
        {
            *pick = rest % pool.len();
            rest /= pool.len();
        }
    }
    atoms
        .iter()
        .zip(picks)
        .map(|(atom, pick)| match atom {
            Atom::Fixed(s) => Some(s.clone()),
            Atom::Class(pool) => pool.get(pick).map(char::to_string),
        })
        .collect()
}

enum Atom {
    Fixed(String),
    /// The characters worth using, preferred first; never empty.
    Class(Vec<char>),
}

/// How many syntax-tree nodes one generated string may visit (nested repetitions of
/// empty matches visit many without growing the string).
const ATOMISE_BUDGET: usize = 200_000;

/// Flattens a match of `hir` into literal text and character choices; `None` when some
/// class offers nothing printable or the match would be absurdly long.
fn atomise(
    hir: &Hir,
    extra: u32,
    branch: Branch,
    atoms: &mut Vec<Atom>,
    budget: &mut usize,
) -> Option<()> {
    *budget = budget.checked_sub(1)?;
    if atoms.len() > MAX_EXAMPLE_LENGTH * 2 {
        return None;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => {
            atoms.push(Atom::Fixed(std::str::from_utf8(&lit.0).ok()?.to_owned()))
        }
        HirKind::Class(class) => atoms.push(Atom::Class(pool(class)?)),
        HirKind::Repetition(rep) => {
            let wanted = rep.min.saturating_add(extra);
            let times = rep.max.map_or(wanted, |max| wanted.min(max));
            for _ in 0..times {
                atomise(&rep.sub, extra, branch, atoms, budget)?;
            }
        }
        HirKind::Capture(cap) => atomise(&cap.sub, extra, branch, atoms, budget)?,
        HirKind::Concat(parts) => {
            for part in parts {
                atomise(part, extra, branch, atoms, budget)?;
            }
        }
        HirKind::Alternation(branches) => {
            let chosen = match branch {
                Branch::First => branches.first(),
                Branch::Last => branches.last(),
            };
            atomise(chosen?, extra, branch, atoms, budget)?;
        }
    }
    Some(())
}

/// A class's usable characters: the preferred ones it holds, in order, then its other
/// printable ASCII characters, letters and digits first (a space only when nothing else is left, so variants do
/// not end in blanks), else its first few printable characters of any script.
fn pool(class: &Class) -> Option<Vec<char>> {
    let contains = |c: char| match class {
        Class::Unicode(set) => set.ranges().iter().any(|r| r.start() <= c && c <= r.end()),
        Class::Bytes(set) => u8::try_from(c)
            .is_ok_and(|b| set.ranges().iter().any(|r| r.start() <= b && b <= r.end())),
    };
    let mut chars: Vec<char> = PREFERRED
        .iter()
        .copied()
        .filter(|c| *c != ' ' && contains(*c))
        .collect();
    let others = ('!'..='~').filter(|c| contains(*c) && !PREFERRED.contains(c));
    let (alphanumeric, punctuation): (Vec<char>, Vec<char>) =
        others.partition(char::is_ascii_alphanumeric);
    chars.extend(alphanumeric);
    chars.extend(punctuation);
    if chars.is_empty() && contains(' ') {
        chars.push(' ');
    }
    if chars.is_empty()
        && let Class::Unicode(set) = class
    {
        chars.extend(
            set.ranges()
                .iter()
                .flat_map(|r| (r.start()..=r.end()).take(64))
                .filter(|c| c.is_alphanumeric() || c.is_ascii_graphic())
                .take(64),
        );
    }
    (!chars.is_empty()).then_some(chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pattern: Option<&str>, min: Option<u32>, max: Option<u32>) -> TextRules {
        let mut f = Field::new("code", FieldType::String);
        f.pattern = pattern.map(str::to_owned);
        f.min_length = min;
        f.max_length = max;
        TextRules::of(&f)
    }

    #[test]
    fn examples_match_their_patterns_and_differ_between_variants() {
        for pattern in [
            r"^[A-Z]{3}-\d{4}$",
            r"^(?:INV|ORD)-[0-9]+$",
            TIME_PATTERN,
            PHONE_PATTERN,
            r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
            r"^[a-z0-9_-]+$",
            r"^SKU-[0-9]{2,5}(-[A-Z])?$",
            r"[^@\s]+@[^@\s]+\.[a-z]{2,}",
            r"^\w+\.\w+$",
        ] {
            let r = rules(Some(pattern), None, None);
            let examples: Vec<String> = (0..6)
                .map(|n| r.example(&[], n).unwrap_or_else(|| panic!("{pattern}")))
                .collect();
            let re = Regex::new(pattern).expect("test patterns compile");
            for e in &examples {
                assert!(re.is_match(e), "{e:?} does not match {pattern}");
            }
            let mut distinct = examples.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), examples.len(), "{pattern}: {examples:?}");
        }
    }

    #[test]
    fn lengths_and_patterns_hold_together() {
        // The constraints fixture: a pattern whose shortest match is too short.
        let code = rules(Some("^[A-Z0-9]+$"), Some(6), Some(12));
        let slug = rules(Some("^[a-z0-9]+(?:-[a-z0-9]+)*$"), Some(3), Some(40));
        let long = rules(Some("^[a-z]+$"), Some(700), None);
        for (r, n) in [(&code, 0), (&code, 5), (&slug, 0), (&slug, 3), (&long, 1)] {
            let e = r.example(&["too short".into()], n).expect("derivable");
            assert!(r.allows(&e), "{e:?}");
        }
        assert_ne!(code.example(&[], 0), code.example(&[], 1));
    }

    #[test]
    fn a_fields_pattern_holds_together_with_its_types() {
        let mut phone = Field::new("office_phone", FieldType::Phone);
        phone.pattern = Some(r"^\+44".into());
        let r = TextRules::of(&phone);
        let values: Vec<String> = (0..4)
            .map(|n| r.example(&["+1 555 0100".into()], n).expect("derivable"))
            .collect();
        let phone_pattern = Regex::new(PHONE_PATTERN).expect("valid");
        for v in &values {
            assert!(v.starts_with("+44"), "{v}");
            assert!(phone_pattern.is_match(v), "{v}");
        }
        assert_ne!(values[0], values[1]);
    }

    #[test]
    fn guesses_come_first_and_impossible_rules_give_none() {
        let r = rules(Some("^[a-z ]+$"), None, Some(20));
        assert_eq!(
            r.example(&["hello world".into()], 3).as_deref(),
            Some("hello world")
        );
        assert_eq!(
            rules(Some("^[A-Z]{3}$"), Some(6), None).example(&[], 0),
            None
        );
        assert_eq!(rules(Some("("), None, None).example(&["x".into()], 0), None);
        assert_eq!(rules(None, Some(20_000), None).example(&[], 0), None);
    }

    #[test]
    fn shortest_match_is_the_plain_example() {
        assert_eq!(
            shortest_match(r"^[A-Z]{3}-\d{4}$", 0).as_deref(),
            Some("AAA-1111")
        );
        assert_eq!(shortest_match(r"^x+$", 2).as_deref(), Some("xxx"));
    }

    proptest::proptest! {
        /// Any pattern and any lengths: no panic, and whatever comes back is allowed.
        #[test]
        fn examples_are_always_allowed(
            pattern in r"[\^$a-cA-C0-9\[\]()|*+?{},.\\-]{0,16}",
            min in proptest::option::of(0u32..40),
            max in proptest::option::of(0u32..40),
            variant in 0usize..10,
        ) {
            let r = rules(Some(&pattern), min, max);
            if let Some(e) = r.example(&["guess".into()], variant) {
                proptest::prop_assert!(r.allows(&e), "{e:?} for {pattern:?}");
            }
        }
    }
}
