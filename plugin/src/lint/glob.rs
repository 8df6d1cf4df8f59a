//! Could a policy's resource pattern ever name a resource of a given type? Both sides are globs: the policy's
//! `*`/`?` and the reference's `${Placeholder}`s (any run of characters). Two globs overlap when some string
//! matches both; that is a walk over pairs of positions, with no backtracking blow-up.

use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    Star,
    One,
}

/// A policy resource: `*` any run, `?` one character.
fn policy_tokens(pattern: &str) -> Vec<Token> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Token::Star,
            '?' => Token::One,
            c => Token::Char(c),
        })
        .collect()
}

/// A reference ARN template: each `${…}` is any run of characters.
fn template_tokens(template: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        tokens.extend(rest[..start].chars().map(Token::Char));
        match rest[start..].find('}') {
            Some(end) => {
                tokens.push(Token::Star);
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    tokens.extend(rest.chars().map(Token::Char));
    tokens
}

/// True when some ARN matches both the policy's resource pattern and the reference's template.
pub fn overlaps(policy_resource: &str, template: &str) -> bool {
    let (p, t) = (policy_tokens(policy_resource), template_tokens(template));
    let mut seen = HashSet::new();
    let mut todo = vec![(0usize, 0usize)];
    while let Some((i, j)) = todo.pop() {
        if !seen.insert((i, j)) {
            continue;
        }
        if i == p.len() && j == t.len() {
            return true;
        }
        let (a, b) = (p.get(i).copied(), t.get(j).copied());
        // A star may stand for nothing.
        if a == Some(Token::Star) {
            todo.push((i + 1, j));
        }
        if b == Some(Token::Star) {
            todo.push((i, j + 1));
        }
        // Both sides read one and the same character.
        let (Some(a), Some(b)) = (a, b) else { continue };
        let same = match (a, b) {
            (Token::Char(x), Token::Char(y)) => x == y,
            _ => true,
        };
        if same {
            let next_i = if a == Token::Star { i } else { i + 1 };
            let next_j = if b == Token::Star { j } else { j + 1 };
            todo.push((next_i, next_j));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    const BUCKET: &str = "arn:${Partition}:s3:::${BucketName}";

    #[test]
    fn s3_objects_and_buckets() {
        assert!(overlaps("arn:aws:s3:::my-bucket/key.txt", OBJECT));
        assert!(overlaps("arn:aws:s3:::my-bucket/*", OBJECT));
        assert!(overlaps("arn:aws:s3:::*", OBJECT), "* spans the slash");
        assert!(overlaps("*", OBJECT));
        assert!(!overlaps("arn:aws:s3:::my-bucket", OBJECT));
        assert!(overlaps("arn:aws:s3:::my-bucket", BUCKET));
        assert!(!overlaps("arn:aws:dynamodb:us-east-1:1:table/t", OBJECT));
        assert!(overlaps("arn:aws:s3:::b?cket/k", OBJECT));
    }
}
