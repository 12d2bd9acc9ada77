//! What is checked before a request reaches a handler: the `Host` (DNS
//! rebinding), the browser `Origin`, CORS for loopback origins only, and the
//! bearer token (on every route but `/healthz`, before the route reads anything).

use crate::Shared;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The host part of an authority (`host`, `host:port`, `[v6]`, `[v6]:port`);
/// `None` when it is malformed.
fn host_of(authority: &str) -> Option<&str> {
    let port_ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => Some(host),
            _ => after.strip_prefix(':').filter(|p| port_ok(p)).map(|_| host),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port_ok(port) && !host.contains(':') => Some(host),
            Some(_) => None,
            None => Some(authority),
        }
    }
}

/// `localhost`, `127.x.x.x`, `::1` (also as `::ffff:127.x.x.x`).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// Whether a `Host` header value (or URI authority) names this machine's loopback.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    host_of(authority.trim()).is_some_and(is_loopback_host)
}

/// The authority of an `Origin` (`http://localhost:3000` → `localhost:3000`);
/// `None` for `null` and schemes other than http(s).
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    Some(rest.trim_end_matches('/'))
}

fn forbidden(message: String) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).into_response()
}

/// Refuses foreign `Host`s and `Origin`s (403); adds CORS headers for the
/// loopback origins it lets through, and for no other.
pub(crate) async fn host_and_origin(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    // Exactly one `Host`, which names this machine (unless remote is allowed).
    // Without one there is nothing to check against DNS rebinding: refused.
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(h), None) => h.to_str().unwrap_or("?").to_string(),
        (None, _) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "no Host header: the local API only answers requests that say which host they are for (localhost, 127.0.0.1 or [::1])",
            )
            .into_response();
        }
        (Some(_), Some(_)) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "more than one Host header",
            )
            .into_response();
        }
    };
    if !shared.allow_remote && !is_loopback_authority(&host) {
        return forbidden(format!(
            "Host '{host}' is not this machine: the local API only answers requests addressed to localhost, 127.0.0.1 or [::1] (protection against DNS rebinding)"
        ));
    }
    let origin = match request.headers().get(header::ORIGIN) {
        None => None,
        Some(value) => {
            let text = value.to_str().unwrap_or("");
            let authority = origin_authority(text);
            let allowed = authority.is_some_and(|a| {
                is_loopback_authority(a) || (shared.allow_remote && host.eq_ignore_ascii_case(a))
            });
            if !allowed {
                return forbidden(format!(
                    "Origin '{text}' may not call the local API: only pages served from this machine's loopback (localhost, 127.0.0.1, [::1]) may"
                ));
            }
            Some(value.clone())
        }
    };
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// A CORS preflight from a loopback origin (foreign ones were refused before).
pub(crate) async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

/// The token before anything else of a request: every route it wraps answers
/// 401 to a request without the right token before its path, query or body is
/// read, so a bad query or body says nothing to a caller without the token.
/// A CORS preflight carries no token (browsers send none) and passes.
pub(crate) async fn bearer(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    match authorize(request.headers(), shared.token.expose()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// `Authorization: Bearer <token>`, compared in constant time.
fn authorize(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    match given {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing API token: send `Authorization: Bearer <token>` with the token `roundtable serve` printed (or ROUNDTABLE_API_TOKEN)",
        )),
        Some(given) if bool::from(given.as_bytes().ct_eq(token.as_bytes())) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong API token: use the token `roundtable serve` printed (or ROUNDTABLE_API_TOKEN)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities() {
        for ok in [
            "localhost",
            "localhost:8787",
            "LOCALHOST.:1",
            "127.0.0.1",
            "127.0.0.1:8787",
            "127.8.9.10:80",
            "[::1]",
            "[::1]:8787",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example",
            "x.localhost",
            "10.0.0.1:8787",
            "0.0.0.0:8787",
            "[::2]:1",
            "::1",
            "127.0.0.1:abc",
            "[::1]x",
            "",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_authority("http://localhost:3000"),
            Some("localhost:3000")
        );
        assert_eq!(origin_authority("null"), None);
        assert_eq!(origin_authority("file://x"), None);
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert!(authorize(&h, "secret").is_err());
        h.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        assert!(authorize(&h, "secret").is_ok());
        h.insert(header::AUTHORIZATION, "bearer  secret ".parse().unwrap());
        assert!(authorize(&h, "secret").is_ok());
        h.insert(header::AUTHORIZATION, "Bearer secreT".parse().unwrap());
        assert!(authorize(&h, "secret").is_err());
        h.insert(header::AUTHORIZATION, "Basic secret".parse().unwrap());
        assert!(authorize(&h, "secret").is_err());
        h.insert(
            header::AUTHORIZATION,
            "Bearer secretsecret".parse().unwrap(),
        );
        assert!(authorize(&h, "secret").is_err());
    }
}
