//! Serves the built PWA (`pwa/dist`) as static files.
//!
//! Caching follows what the service worker needs: files under `assets/` carry
//! a content hash in their name, so browsers may keep them for a year; every
//! other file (`index.html`, `sw.js`, the manifest, icons) must be revalidated
//! on each request, or a phone could keep running an old app for ever. Those
//! carry an `ETag` so revalidation costs a 304 and no body.
//!
//! The build writes a gzipped copy beside each compressible file
//! (`pwa/scripts/precompress.mjs`); browsers that accept gzip get that.

use std::path::{Component, Path, PathBuf};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let root = &state.config.pwa_dir;
    let Some(relative) = safe_relative_path(uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let shell = Path::new("index.html");
    let (path, body) = match read(root, &relative).await {
        Some(found) => found,
        // Paths without an extension are the app's own pages: answer with the
        // app shell so a bookmarked or reloaded URL still opens the app.
        None if relative == shell || relative.extension().is_none() => {
            match read(root, shell).await {
                Some(found) => found,
                None => return not_built(),
            }
        }
        None => return StatusCode::NOT_FOUND.into_response(),
    };

    // The gzipped copy, if there is one and the browser takes it.
    let gzipped = if accepts_gzip(&headers) {
        read_fresh_gzip(&path).await
    } else {
        None
    };
    let is_gzipped = gzipped.is_some();
    let body = gzipped.unwrap_or(body);

    let immutable = relative.starts_with("assets");
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..12]));
    let mut response = if !immutable && if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        body.into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { REVALIDATE }),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if is_gzipped {
        response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|param| param.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// The gzipped copy of `path`, unless it is older than the file itself: a
/// file replaced without rebuilding (an operator's hot fix) must never be
/// shadowed by its stale copy.
async fn read_fresh_gzip(path: &Path) -> Option<Vec<u8>> {
    let gz = with_gz_suffix(path);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&gz)? < modified(path)? {
        return None;
    }
    tokio::fs::read(gz).await.ok()
}

fn with_gz_suffix(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

/// The request path as a path under the app directory, or `None` if it tries
/// to leave it (`..`, absolute parts).
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let trimmed = path.trim_start_matches('/');
    let relative = if trimmed.is_empty() {
        PathBuf::from("index.html")
    } else {
        PathBuf::from(trimmed)
    };
    relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)))
        .then_some(relative)
}

async fn read(root: &Path, relative: &Path) -> Option<(PathBuf, Vec<u8>)> {
    let path = root.join(relative);
    let body = tokio::fs::read(&path).await.ok()?;
    Some((path, body))
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        // The right type lets browsers compile WebAssembly while it downloads.
        Some("wasm") => "application/wasm",
        Some("webmanifest") => "application/manifest+json",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The Fieldbook web app has not been built. Run `make run`, or build it with \
         `cd pwa && npm ci && npm run build` and restart the server.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_app_directory() {
        assert_eq!(safe_relative_path("/"), Some(PathBuf::from("index.html")));
        assert_eq!(
            safe_relative_path("/assets/app-1a2b.js"),
            Some(PathBuf::from("assets/app-1a2b.js"))
        );
        assert_eq!(safe_relative_path("/../secret"), None);
        assert_eq!(safe_relative_path("/assets/../../etc/passwd"), None);
        assert_eq!(
            safe_relative_path("//etc/passwd"),
            Some(PathBuf::from("etc/passwd"))
        );
    }

    #[test]
    fn gzip_is_sent_only_to_browsers_that_accept_it() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn a_gzipped_copy_older_than_its_file_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sw.js");
        std::fs::write(&path, "version 1").unwrap();
        std::fs::write(with_gz_suffix(&path), b"gzip of version 1").unwrap();
        assert_eq!(
            read_fresh_gzip(&path).await.as_deref(),
            Some(&b"gzip of version 1"[..])
        );

        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        let file = std::fs::File::options().append(true).open(&path).unwrap();
        file.set_modified(later).unwrap();
        assert_eq!(read_fresh_gzip(&path).await, None);
    }
}
