//! Serves the built PWA (`pwa/dist`) as static files, through tower-http's
//! `ServeDir`: it opens and streams the files, picks the build's brotli or
//! gzip copy by the browser's `Accept-Encoding`, answers `HEAD`, ranges and
//! `If-Modified-Since` (with `Last-Modified`), and refuses paths that leave
//! the directory. What is ours is what the app needs on top:
//!
//! - Caching: files under `assets/` carry a content hash in their name, so
//!   browsers may keep them for a year; every other file (`index.html`,
//!   `sw.js`, the manifest, icons) must be revalidated on each request, or a
//!   phone could keep running an old app for ever. Those carry an `ETag`
//!   (which `ServeDir` does not make), so revalidation costs a 304.
//! - App routes: a path without an extension is one of the app's own pages,
//!   answered with the app shell, so a bookmarked or reloaded URL still opens
//!   the app; a missing file with an extension is a 404.
//! - A compressed copy older than its file (an operator's hot fix without a
//!   rebuild) is never sent in its place.

use std::convert::Infallible;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const SHELL: &str = "index.html";
/// The build's compressed copies, by their `Content-Encoding`.
const COPIES: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

pub async fn serve(State(state): State<AppState>, mut request: Request) -> Response {
    let root = state.config.pwa_dir.clone();
    let relative = safe_relative_path(request.uri().path());
    let file = relative.as_ref().map(|relative| root.join(relative));
    if let Some(file) = &file {
        refuse_stale_copies(file, request.headers_mut());
    }
    let shell_root = root.clone();
    let files = ServeDir::new(&root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .fallback(tower::service_fn(move |request: Request| {
            let root = shell_root.clone();
            async move { Ok::<_, Infallible>(shell_or_not_found(&root, request).await) }
        }));
    let method = request.method().clone();
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = match files.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    let status = response.status();
    let Some(relative) =
        relative.filter(|_| status == StatusCode::OK || status == StatusCode::NOT_MODIFIED)
    else {
        return response;
    };
    let served = match file {
        Some(file) if file.is_file() => file,
        _ => root.join(SHELL),
    };
    let immutable = relative.starts_with("assets") && served != root.join(SHELL);
    if status == StatusCode::NOT_MODIFIED {
        // Answered from `If-Modified-Since`: the caching rules still apply.
        return with_cache_rules(response, immutable);
    }
    finish(response, &served, immutable, &method, if_none_match)
}

fn with_cache_rules(mut response: Response, immutable: bool) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { REVALIDATE }),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The app shell for the app's own pages (paths without an extension), a
/// page saying how to build the app if it is not built, or a 404.
async fn shell_or_not_found(root: &Path, request: Request) -> Response {
    let is_page = safe_relative_path(request.uri().path())
        .is_some_and(|relative| relative.extension().is_none() || relative == Path::new(SHELL));
    if !is_page {
        return StatusCode::NOT_FOUND.into_response();
    }
    let shell = root.join(SHELL);
    if !shell.is_file() {
        return not_built();
    }
    let mut request = request;
    refuse_stale_copies(&shell, request.headers_mut());
    match ServeFile::new(shell)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// Caching headers, the `ETag` (and a 304 when it matches), and the
/// character set of text.
fn finish(
    mut response: Response,
    served: &Path,
    immutable: bool,
    method: &Method,
    if_none_match: Option<HeaderValue>,
) -> Response {
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let etag = etag(&copy_path(served, encoding.as_deref()));
    let matches = etag.as_ref().is_some_and(|etag| {
        if_none_match
            .as_ref()
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag))
    });
    if !immutable && matches && (method == Method::GET || method == Method::HEAD) {
        let kept = response.headers().clone();
        response = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::LAST_MODIFIED, header::CONTENT_TYPE] {
            if let Some(value) = kept.get(&name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
    }
    let mut response = with_cache_rules(response, immutable);
    let headers = response.headers_mut();
    if let Some(value) = etag.and_then(|etag| HeaderValue::from_str(&etag).ok()) {
        headers.insert(header::ETAG, value);
    }
    add_charset(headers);
    response
}

/// The file actually sent: the original, or its compressed copy.
fn copy_path(file: &Path, encoding: Option<&str>) -> PathBuf {
    match COPIES.iter().find(|(name, _)| Some(*name) == encoding) {
        Some((_, suffix)) => with_suffix(file, suffix),
        None => file.to_owned(),
    }
}

/// A strong validator from the file's modification time (to the
/// nanosecond) and size: a rebuilt file gets a new one, at no cost of
/// reading it.
fn etag(file: &Path) -> Option<String> {
    let metadata = std::fs::metadata(file).ok()?;
    let modified = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!(
        "\"{:x}-{:x}\"",
        modified.as_nanos(),
        metadata.len()
    ))
}

/// `ServeDir` names text types without a character set; the app's files
/// are UTF-8.
fn add_charset(headers: &mut HeaderMap) {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    if (value.starts_with("text/") || value == "application/javascript") && !value.contains(';') {
        if let Ok(with) = HeaderValue::from_str(&format!("{value}; charset=utf-8")) {
            headers.insert(header::CONTENT_TYPE, with);
        }
    }
}

/// Takes out of `Accept-Encoding` each coding whose copy of `file` is older
/// than the file, so `ServeDir` sends the file itself.
fn refuse_stale_copies(file: &Path, headers: &mut HeaderMap) {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let Some(original) = modified(file) else {
        return;
    };
    let stale: Vec<&str> = COPIES
        .iter()
        .filter(|(_, suffix)| modified(&with_suffix(file, suffix)).is_some_and(|m| m < original))
        .map(|(name, _)| *name)
        .collect();
    if stale.is_empty() {
        return;
    }
    let accepted: Vec<String> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|coding| {
            let name = coding.split(';').next().unwrap_or("").trim();
            !stale.iter().any(|stale| name.eq_ignore_ascii_case(stale))
        })
        .map(str::to_owned)
        .collect();
    headers.remove(header::ACCEPT_ENCODING);
    if let Ok(value) = HeaderValue::from_str(&accepted.join(", ")) {
        headers.insert(header::ACCEPT_ENCODING, value);
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The request path (percent-decoded) as a path under the app directory,
/// `index.html` for `/`, or `None` if it tries to leave it. `ServeDir`
/// checks the same itself; this is for our own look at the file.
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let trimmed = decoded.trim_start_matches('/');
    let relative = if trimmed.is_empty() {
        PathBuf::from(SHELL)
    } else {
        PathBuf::from(trimmed)
    };
    relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)))
        .then_some(relative)
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
        assert_eq!(safe_relative_path("/%2e%2e/secret"), None);
        assert_eq!(
            safe_relative_path("//etc/passwd"),
            Some(PathBuf::from("etc/passwd"))
        );
    }
}
