//! The built web app: files compressed once (brotli and gzip siblings), hashed files cached for
//! a year, `index.html` revalidated on every load so a new release is picked up at once.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// Serves `dir`, sending a file's `.br` or `.gz` sibling when the client accepts it. The app
/// routes on the client, so any path that is not a file gets `index.html`.
pub fn router(dir: &Path) -> Router {
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip(),
        );
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
}

const COMPRESSIBLE: [&str; 5] = ["wasm", "js", "css", "html", "svg"];

/// Compresses a whole file.
type Compress = fn(&[u8]) -> std::io::Result<Vec<u8>>;

/// The compressed copies kept next to each file: extension and how to make it.
const ENCODINGS: [(&str, Compress); 2] = [("br", brotli_best), ("gz", gzip_best)];

/// Writes a `.br` and a `.gz` next to each compressible file of `dir` that lacks one or has an
/// older one; a file whose copies are current is not read. Errors are returned, not fatal:
/// without the copies, files are served as they are.
pub fn precompress(dir: &Path) -> std::io::Result<usize> {
    let mut written = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible || !path.is_file() {
            continue;
        }
        let modified = std::fs::metadata(&path)?.modified()?;
        let mut contents = None;
        for (extension, compress) in ENCODINGS {
            let copy = sibling(&path, extension);
            let current = std::fs::metadata(&copy)
                .and_then(|m| m.modified())
                .is_ok_and(|at| at >= modified);
            if current {
                continue;
            }
            let plain = match &contents {
                Some(plain) => plain,
                None => contents.insert(std::fs::read(&path)?),
            };
            write_atomically(&copy, &compress(plain)?)?;
            written += 1;
        }
    }
    Ok(written)
}

fn brotli_best(plain: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &plain[..], &mut out, &params)?;
    Ok(out)
}

fn gzip_best(plain: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(plain)?;
    encoder.finish()
}

fn sibling(path: &Path, extension: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// A reader never sees half a file: the copy appears whole or not at all. The partial file is
/// named for this process, so two servers starting on one folder do not write into each other's.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = sibling(path, &format!("{}.partial", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// trunk names built files `name-<16 hex digits>.ext`: their contents never change under that
/// name, so browsers may keep them for a year; anything else must be checked each time.
async fn cache_headers(request: Request, next: Next) -> Response {
    let immutable = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_content_hashed);
    let mut response = next.run(request).await;
    if response.status().is_success() {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

fn is_content_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[test]
    fn only_trunks_hashed_names_are_immutable() {
        assert!(is_content_hashed("provisio-9f1b4ba4afe51ca9_bg.wasm"));
        assert!(is_content_hashed("provisio-9f1b4ba4afe51ca9.js"));
        assert!(is_content_hashed("main-53b894229085d267.css"));
        assert!(!is_content_hashed("index.html"));
        assert!(!is_content_hashed("reports"));
        assert!(!is_content_hashed("main-53b8942.css"));
        assert!(!is_content_hashed("user-provisioning"));
    }

    async fn get(app: &Router, path: &str, accept: &str) -> (Response, Vec<u8>) {
        let request = Request::get(path)
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("answer");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes().to_vec();
        (Response::from_parts(parts, Body::empty()), bytes)
    }

    #[tokio::test]
    async fn files_are_sent_precompressed_with_their_cache_rules() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = "console.log('provisio');\n".repeat(200);
        std::fs::write(dir.path().join("app-0123456789abcdef.js"), &script).expect("write");
        std::fs::write(
            dir.path().join("index.html"),
            "<!doctype html><title>P</title>",
        )
        .expect("write");
        assert_eq!(precompress(dir.path()).expect("compressed"), 4);
        assert_eq!(precompress(dir.path()).expect("nothing new"), 0);
        let app = router(dir.path());

        let (response, body) = get(&app, "/app-0123456789abcdef.js", "br, gzip").await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let mut plain = Vec::new();
        brotli::BrotliDecompress(&mut body.as_slice(), &mut plain).expect("brotli");
        assert_eq!(plain, script.as_bytes());

        let (response, _) = get(&app, "/app-0123456789abcdef.js", "gzip").await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");

        let (response, body) = get(&app, "/reports/user-provisioning", "identity").await;
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(String::from_utf8_lossy(&body).contains("<title>P</title>"));
    }
}
