//! The agent's own look at a pod's token before it calls eks-auth: upstream (`internal/validation/request.go`)
//! only makes sure there is one, that golang-jwt parses it without verifying, and that its `exp`/`nbf` hold;
//! eks-auth decides the rest. Messages are upstream's, with golang-jwt v5's wording for the cause.

use base64::Engine as _;
use serde_json::Value;

/// `Err(message)` is answered 400 with that message.
pub fn check(token: &str, now: i64) -> Result<(), String> {
    if token.is_empty() {
        return Err("Service account token cannot be empty".into());
    }
    let claims = parse_unverified(token)
        .map_err(|why| format!("Service account token cannot be parsed: {why}"))?;
    let mut invalid = Vec::new();
    if claims
        .get("exp")
        .and_then(Value::as_f64)
        .is_some_and(|exp| now as f64 > exp)
    {
        invalid.push("token is expired");
    }
    if claims
        .get("nbf")
        .and_then(Value::as_f64)
        .is_some_and(|nbf| (now as f64) < nbf)
    {
        invalid.push("token is not valid yet");
    }
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Service account token failed basic claim validations: token has invalid claims: {}",
            invalid.join(", ")
        ))
    }
}

/// golang-jwt's `ParseUnverified` into `RegisteredClaims`: three segments, a JSON header naming an `alg`, a JSON
/// object of claims whose registered dates are numbers.
fn parse_unverified(token: &str) -> Result<serde_json::Map<String, Value>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("token is malformed: token contains an invalid number of segments".into());
    }
    let segment = |part: &str, what: &str| -> Result<Value, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| format!("token is malformed: could not base64 decode {what}: {e}"))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("token is malformed: could not JSON decode {what}: {e}"))
    };
    let header = segment(parts[0], "header")?;
    let claims = match segment(parts[1], "claim")? {
        Value::Object(map) => map,
        _ => return Err("token is malformed: could not JSON decode claim: not an object".into()),
    };
    for date in ["exp", "nbf", "iat"] {
        if claims
            .get(date)
            .is_some_and(|v| !v.is_number() && !v.is_null())
        {
            return Err(format!(
                "token is malformed: could not JSON decode claim: {date} is not a number"
            ));
        }
    }
    match header.get("alg").and_then(Value::as_str) {
        None => Err("token is unverifiable: signing method (alg) is unspecified".into()),
        Some(alg) if !KNOWN_ALGS.contains(&alg) => {
            Err("token is unverifiable: signing method (alg) is unavailable".into())
        }
        Some(_) => Ok(claims),
    }
}

/// The signing methods golang-jwt registers (`none` among them).
const KNOWN_ALGS: [&str; 14] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
    "HS384", "HS512", "EdDSA", "none",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: Value, claims: Value) -> String {
        let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(header), enc(claims))
    }

    #[test]
    fn a_parseable_unexpired_token_passes() {
        let token = jwt(
            serde_json::json!({"alg": "RS256"}),
            serde_json::json!({"exp": 2000, "nbf": 1000}),
        );
        assert_eq!(check(&token, 1500), Ok(()));
    }

    #[test]
    fn refusals_say_what_upstream_says() {
        assert_eq!(
            check("", 0),
            Err("Service account token cannot be empty".into())
        );
        assert_eq!(
            check("a.b", 0),
            Err("Service account token cannot be parsed: token is malformed: token contains an invalid number of segments".into())
        );
        let expired = jwt(
            serde_json::json!({"alg": "RS256"}),
            serde_json::json!({"exp": 1000}),
        );
        assert_eq!(
            check(&expired, 1001),
            Err("Service account token failed basic claim validations: token has invalid claims: token is expired".into())
        );
        let early = jwt(
            serde_json::json!({"alg": "RS256"}),
            serde_json::json!({"nbf": 1000}),
        );
        assert!(check(&early, 999)
            .unwrap_err()
            .ends_with("token is not valid yet"));
        let no_alg = jwt(serde_json::json!({}), serde_json::json!({}));
        assert!(check(&no_alg, 0)
            .unwrap_err()
            .contains("(alg) is unspecified"));
        assert!(check("!!.e30.x", 0)
            .unwrap_err()
            .contains("could not base64 decode header"));
    }
}
