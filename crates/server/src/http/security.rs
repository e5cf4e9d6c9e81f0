//! Security headers on every response, and the cross-site request check on every write.

use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::ApiError;

/// The Content-Security-Policy: only this origin's scripts, plus the hashes of the inline
/// bootstrap scripts trunk writes into `index.html`; wasm may compile; no framing.
pub fn content_security_policy(static_dir: Option<&Path>) -> String {
    let hashes: String = static_dir
        .and_then(|dir| std::fs::read_to_string(dir.join("index.html")).ok())
        .map(|html| inline_scripts(&html))
        .unwrap_or_default()
        .iter()
        .map(|script| {
            format!(
                " 'sha256-{}'",
                STANDARD.encode(Sha256::digest(script.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> Vec<String> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let Some(close) = after.find("</script>") else {
            break;
        };
        let tag = &after[..open_end];
        if !tag.contains("src=") && close > open_end {
            scripts.push(after[open_end + 1..close].to_owned());
        }
        rest = &after[close + "</script>".len()..];
    }
    scripts
}

/// Adds the security headers to every response.
pub async fn headers(csp: HeaderValue, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Refuses a state-changing request that a browser sent from another origin.
///
/// The session cookie is SameSite=Strict, which already keeps other sites from riding on it in
/// current browsers. The Origin check adds a second, independent guard (OWASP's "verify origin
/// with standard headers") that also covers same-site, cross-origin pages such as a sibling
/// subdomain, without a token the app would have to fetch and echo. Browsers send Origin on
/// every cross-origin write; a request without Origin comes from a non-browser client, which
/// cannot be tricked into sending someone else's cookie.
pub async fn same_origin_writes(request: Request<Body>, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, host)| host);
            if host.is_none() || origin_host != host {
                return ApiError::Forbidden("cross-origin requests may not change anything")
                    .into_response();
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<script type="module">boot()</script><script src="/x.js"></script>"#;
        assert_eq!(inline_scripts(html), ["boot()"]);
        let csp = content_security_policy(None);
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
    }
}
