//! Strings that match a field's `pattern`, so generated tests have valid examples for
//! pattern-constrained fields. Covers the regular-expression subset designs use
//! (literals, classes, escapes, groups, alternation, quantifiers); anything else yields
//! `None` and the caller reports that it cannot derive an example.

#[derive(Debug, Clone)]
enum Node {
    Literal(char),
    /// Inclusive ranges; `negated` picks a printable character outside them.
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Alternatives(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

/// A string matching `pattern`; `variant` varies the choices so different variants
/// usually give different strings.
pub fn example(pattern: &str, variant: usize) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut parser = Parser { chars, pos: 0 };
    let tree = parser.alternatives()?;
    if parser.pos != parser.chars.len() {
        return None;
    }
    let mut out = String::new();
    let mut counter = variant;
    generate(&tree, variant, &mut counter, &mut out);
    Some(out)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn alternatives(&mut self) -> Option<Node> {
        let mut branches = vec![self.sequence()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.sequence()?);
        }
        Some(Node::Alternatives(branches))
    }

    fn sequence(&mut self) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = match self.next()? {
                // Anchors: the whole value must match anyway.
                '^' | '$' => continue,
                '(' => {
                    if self.peek() == Some('?') {
                        self.pos += 1;
                        if self.next()? != ':' {
                            return None;
                        }
                    }
                    let inner = self.alternatives()?;
                    if self.next()? != ')' {
                        return None;
                    }
                    inner
                }
                '[' => self.class()?,
                '.' => Node::Class {
                    ranges: vec![('a', 'z')],
                    negated: false,
                },
                '\\' => self.escape()?,
                '*' | '+' | '?' | '{' => return None,
                c => Node::Literal(c),
            };
            nodes.push(self.quantified(atom)?);
        }
        Some(nodes)
    }

    fn escape(&mut self) -> Option<Node> {
        let class = |ranges: Vec<(char, char)>, negated| Some(Node::Class { ranges, negated });
        match self.next()? {
            'd' => class(vec![('0', '9')], false),
            'D' => class(vec![('0', '9')], true),
            'w' => class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false),
            'W' => class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], true),
            's' => Some(Node::Literal(' ')),
            'S' => Some(Node::Literal('x')),
            'n' => Some(Node::Literal('\n')),
            't' => Some(Node::Literal('\t')),
            c if c.is_ascii_alphanumeric() => None,
            c => Some(Node::Literal(c)),
        }
    }

    fn class(&mut self) -> Option<Node> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.next()?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let start = if c == '\\' {
                match self.next()? {
                    'd' => {
                        ranges.push(('0', '9'));
                        continue;
                    }
                    'w' => {
                        ranges.extend([('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]);
                        continue;
                    }
                    's' => {
                        ranges.push((' ', ' '));
                        continue;
                    }
                    e if e.is_ascii_alphanumeric() => return None,
                    e => e,
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let end = match self.next()? {
                    '\\' => self.next()?,
                    e => e,
                };
                if end < start {
                    return None;
                }
                ranges.push((start, end));
            } else {
                ranges.push((start, start));
            }
        }
        Some(Node::Class { ranges, negated })
    }

    fn quantified(&mut self, atom: Node) -> Option<Node> {
        let (min, max) = match self.peek() {
            Some('?') => (0, Some(1)),
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('{') => {
                let close = self.chars[self.pos..].iter().position(|&c| c == '}')? + self.pos;
                let body: String = self.chars[self.pos + 1..close].iter().collect();
                self.pos = close;
                match body.split_once(',') {
                    None => {
                        let n = body.trim().parse().ok()?;
                        (n, Some(n))
                    }
                    Some((lo, hi)) => {
                        let lo = lo.trim().parse().ok()?;
                        let hi = hi.trim();
                        (
                            lo,
                            if hi.is_empty() {
                                None
                            } else {
                                Some(hi.parse().ok()?)
                            },
                        )
                    }
                }
            }
            _ => return Some(atom),
        };
        self.pos += 1;
        // A lazy marker changes nothing about which strings match.
        if self.peek() == Some('?') {
            self.pos += 1;
        }
        Some(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }
}

fn generate(node: &Node, variant: usize, counter: &mut usize, out: &mut String) {
    match node {
        Node::Literal(c) => out.push(*c),
        Node::Class { ranges, negated } => {
            let candidates: Vec<char> = if *negated {
                ('!'..='~')
                    .filter(|c| !ranges.iter().any(|(lo, hi)| lo <= c && c <= hi))
                    .collect()
            } else {
                ranges
                    .iter()
                    .flat_map(|&(lo, hi)| (lo..=hi).take(64))
                    .collect()
            };
            if !candidates.is_empty() {
                out.push(candidates[*counter % candidates.len()]);
            }
            *counter += 1;
        }
        Node::Alternatives(branches) => {
            if let Some(branch) = branches.get(variant % branches.len().max(1)) {
                for node in branch {
                    generate(node, variant, counter, out);
                }
            }
        }
        Node::Repeat { node, min, max } => {
            let count = (*min).max(1).min(max.unwrap_or(u32::MAX));
            for _ in 0..count {
                generate(node, variant, counter, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .expect("test patterns are valid")
            .is_match(value)
    }

    #[test]
    fn examples_match_their_patterns() {
        for pattern in [
            r"^[A-Z]{3}-\d{4}$",
            r"^[a-z0-9_-]+$",
            r"^(red|green|blue)$",
            r"^SKU-[0-9]{2,5}(-[A-Z])?$",
            r"^\+?[0-9 ()-]{6,20}$",
            r"[^@\s]+@[^@\s]+\.[a-z]{2,}",
            r"^\w+\.\w+$",
        ] {
            for variant in 0..8 {
                let value = example(pattern, variant).expect(pattern);
                assert!(matches(pattern, &value), "{pattern} → {value:?}");
            }
        }
    }

    #[test]
    fn variants_differ() {
        let a = example(r"^[A-Z]{3}$", 0);
        let b = example(r"^[A-Z]{3}$", 1);
        assert_ne!(a, b);
    }

    #[test]
    fn unsupported_syntax_is_none() {
        assert_eq!(example(r"^(?=a)b$", 0), None);
        assert_eq!(example(r"^\p{L}+$", 0), None);
        assert_eq!(example(r"^a{2$", 0), None);
    }
}
