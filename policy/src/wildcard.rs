//! Glob matching the way IAM does it.
//!
//! IAM knows two wildcards: `*` (any run of characters, including none, and including `:` and `/`) and `?`
//! (exactly one character). There are no character classes and no escapes; a literal `*` can only come from
//! the policy variable `${*}`, which is why a [`Pattern`] is a token list rather than a string.
//!
//! The matcher is the classic iterative two-pointer algorithm with single-star backtracking: O(n·m) worst case,
//! no recursion (so no stack overflow on hostile input) and no indexing that could panic.

/// One element of a glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// A character that must match itself.
    Char(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    Question,
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compile an IAM glob: `*` and `?` are wildcards, everything else is literal.
    pub fn new(glob: &str) -> Self {
        Pattern {
            tokens: glob.chars().map(token_of).collect(),
        }
    }

    /// A pattern with no wildcards at all: every character is literal.
    pub fn literal(text: &str) -> Self {
        Pattern {
            tokens: text.chars().map(Token::Char).collect(),
        }
    }

    pub(crate) fn from_tokens(tokens: Vec<Token>) -> Self {
        Pattern { tokens }
    }

    /// Case-sensitive match of the whole `text` (resources, condition values).
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        match_tokens(&self.tokens, &text)
    }

    /// Case-insensitive match of the whole `text` (actions).
    pub fn matches_ignore_case(&self, text: &str) -> bool {
        let tokens: Vec<Token> = self
            .tokens
            .iter()
            .flat_map(|t| -> Vec<Token> {
                match t {
                    Token::Char(c) => c.to_lowercase().map(Token::Char).collect(),
                    other => vec![*other],
                }
            })
            .collect();
        let text: Vec<char> = text.to_lowercase().chars().collect();
        match_tokens(&tokens, &text)
    }

    /// The pattern rendered back as text (`*` and `?` tokens as themselves).
    pub fn to_glob_string(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                Token::Char(c) => *c,
                Token::Star => '*',
                Token::Question => '?',
            })
            .collect()
    }
}

fn token_of(c: char) -> Token {
    match c {
        '*' => Token::Star,
        '?' => Token::Question,
        other => Token::Char(other),
    }
}

/// Does IAM glob `pattern` match all of `text`, case-sensitively?
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches(text)
}

/// Does IAM glob `pattern` match all of `text`, ignoring case (as IAM does for actions)?
pub fn wildcard_match_ignore_case(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches_ignore_case(text)
}

fn match_tokens(pattern: &[Token], text: &[char]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it is currently assumed to stretch to.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(Token::Star), _) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            (Some(Token::Question), Some(_)) => {
                p += 1;
                t += 1;
                continue;
            }
            (Some(Token::Char(c)), Some(x)) if c == x => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star_p, star_t)) => {
                // Let the last star swallow one more character and retry from just after it.
                p = star_p + 1;
                t = star_t + 1;
                backtrack = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    while let Some(Token::Star) = pattern.get(p) {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything:at/all"));
        assert!(wildcard_match(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b"
        ));
        assert!(!wildcard_match(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket"
        ));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(!wildcard_match("abc", "ABC"));
        assert!(wildcard_match_ignore_case("S3:Get*", "s3:getobject"));
        assert!(wildcard_match("*a*b*", "xxaxxbxx"));
        assert!(!wildcard_match("*a*b", "xxaxxbxxc"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "x"));
    }

    #[test]
    fn literal_pattern_has_no_wildcards() {
        assert!(Pattern::literal("a*").matches("a*"));
        assert!(!Pattern::literal("a*").matches("ab"));
    }
}
