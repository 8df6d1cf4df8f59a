//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and the escapes `${*}`,
//! `${?}`, `${$}`.
//!
//! IAM substitutes them only in documents with `"Version": "2012-10-17"`; older or version-less documents treat
//! `${…}` as literal text. A substituted value is always literal, even if it contains `*`: it comes from the
//! request, and a caller must not be able to widen a policy by choosing their own user name. A variable whose
//! key is absent (and has no default) makes the element that uses it match nothing, as in IAM.

use crate::context::RequestContext;
use crate::wildcard::{Pattern, Token};

/// Expand `template` against `ctx`. Characters written in the policy keep their wildcard meaning (`*`, `?`);
/// substituted text is literal. `None` if a variable cannot be resolved.
pub(crate) fn expand(template: &str, ctx: &RequestContext, enabled: bool) -> Option<Pattern> {
    if !enabled {
        return Some(Pattern::new(template));
    }
    let chars: Vec<char> = template.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len());
    let mut i = 0usize;
    while let Some(&c) = chars.get(i) {
        if c == '$' && chars.get(i + 1) == Some(&'{') {
            if let Some(close) = chars.iter().skip(i + 2).position(|&x| x == '}') {
                let inner: String = chars.iter().skip(i + 2).take(close).collect();
                resolve(&inner, ctx)?
                    .chars()
                    .for_each(|ch| tokens.push(Token::Char(ch)));
                i += close + 3;
                continue;
            }
        }
        tokens.push(match c {
            '*' => Token::Star,
            '?' => Token::Question,
            other => Token::Char(other),
        });
        i += 1;
    }
    Some(Pattern::from_tokens(tokens))
}

/// The text a `${inner}` stands for.
fn resolve(inner: &str, ctx: &RequestContext) -> Option<String> {
    match inner {
        "*" | "?" | "$" => return Some(inner.to_string()),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => (key.trim(), parse_default(default)),
        None => (inner.trim(), None),
    };
    ctx.values(key)
        .and_then(|vs| vs.first().cloned())
        .or(default)
}

/// `'text'` → `text`; anything else is not a valid default.
fn parse_default(raw: &str) -> Option<String> {
    raw.trim()
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new("s3:GetObject").with_key("aws:username", "bob*")
    }

    #[test]
    fn substitutes_literally() {
        let p = expand("arn:aws:s3:::b/home/${aws:username}/*", &ctx(), true).unwrap();
        assert!(p.matches("arn:aws:s3:::b/home/bob*/file"));
        // The `*` that came from the request is literal.
        assert!(!p.matches("arn:aws:s3:::b/home/bobby/file"));
    }

    #[test]
    fn defaults_escapes_and_missing() {
        let p = expand("${aws:PrincipalTag/team, 'all'}", &ctx(), true).unwrap();
        assert!(p.matches("all"));
        assert!(expand("${aws:PrincipalTag/team}", &ctx(), true).is_none());
        let p = expand("a${*}b", &ctx(), true).unwrap();
        assert!(p.matches("a*b"));
        assert!(!p.matches("axb"));
        // Unterminated: literal.
        assert!(expand("${aws:username", &ctx(), true)
            .unwrap()
            .matches("${aws:username"));
        // Disabled (old Version): literal text with wildcards.
        assert!(expand("${aws:username}", &ctx(), false)
            .unwrap()
            .matches("${aws:username}"));
    }
}
