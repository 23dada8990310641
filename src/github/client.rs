//! HTTP to the GitHub API: one reqwest client (rustls, one reused connection), every request
//! sent one at a time, writes paced by [`Pacer`], and bounded retries (§4 of
//! `shared/docs/github-and-dotenv.md`):
//!
//! - 429, or 403 that is a rate limit (`retry-after`, `x-ratelimit-remaining: 0`, or a
//!   "secondary rate limit" message): wait `retry-after`, else until `x-ratelimit-reset`, else
//!   60 s doubling; at most [`MAX_LIMITED`] times, and never a single wait over [`MAX_WAIT`];
//! - 5xx and transport failures (reset, dropped connection, timeout): back off 0.5 s, 1 s, 2 s,
//!   4 s (with jitter), then give up.
//!
//! Other answers go back to the caller, which knows what a 404 or 409 means there. The token is
//! sent only in a sensitive header and scrubbed from every message built from a response.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use super::dates;
use super::env::{Connection, Token};
use super::pacer::Pacer;

/// Most rate-limit answers retried for one request.
const MAX_LIMITED: u32 = 8;
/// Longest single wait a rate limit may impose before stackwire gives up and says when to re-run.
const MAX_WAIT: Duration = Duration::from_secs(600);
/// Retries after 5xx answers and transport failures.
const MAX_TRANSIENT: u32 = 4;
const BACKOFF: Duration = Duration::from_millis(500);
/// Longest time one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Most pages followed in one listing (100 × 100 names, beyond any GitHub limit).
const MAX_PAGES: usize = 100;

/// Told about requests and waits; implemented by the command (verbose log, progress bar).
pub(crate) trait Observer {
    /// One line for `-v`.
    fn debug(&self, line: &str);
    /// A wait imposed by the server, worth telling without `-v`.
    fn waiting(&self, line: &str);
}

/// Counters for the summary and the benchmark.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) requests: u32,
    pub(crate) writes: u32,
    pub(crate) retries: u32,
    pub(crate) rate_limited: u32,
    pub(crate) waited: Duration,
}

/// A request that failed for good.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// GitHub answered with an error status.
    #[error("{request}: {status} {message}{hint}")]
    Status {
        request: String,
        status: u16,
        message: String,
        hint: &'static str,
    },
    /// No answer (connection refused, reset, dropped, timeout), after retries.
    #[error("{request}: {message} (after {attempts} attempts)")]
    Transport {
        request: String,
        message: String,
        attempts: u32,
    },
    /// Rate limits did not clear in time.
    #[error("{request}: {message}")]
    RateLimited { request: String, message: String },
    /// An answer that is not what GitHub sends.
    #[error("{request}: {message}")]
    Unexpected { request: String, message: String },
    /// The HTTP client could not be built.
    #[error("cannot set up HTTPS: {0}")]
    Setup(String),
}

/// A final answer: status, the `Date` header as Unix seconds, the `Link: rel="next"` URL, body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) date: Option<i64>,
    next: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Why and how long to wait before retrying a rate-limited request.
#[derive(Debug, PartialEq)]
struct Limit {
    wait: Duration,
    /// The window the wait suggests, for the pacer (none for the primary hourly budget).
    window: Option<Duration>,
    why: &'static str,
}

/// The GitHub API client of one run.
pub(crate) struct Client<'o> {
    http: reqwest::Client,
    api: String,
    token: Token,
    pacer: Pacer,
    observer: &'o dyn Observer,
    pub(crate) stats: Stats,
}

impl<'o> Client<'o> {
    pub(crate) fn new(conn: &Connection, observer: &'o dyn Observer) -> Result<Self, ApiError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", conn.token.expose())).map_err(|_| {
                ApiError::Setup(format!(
                    "{} holds characters that cannot go in an HTTP header",
                    conn.token_var
                ))
            })?;
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .user_agent(concat!("stackwire/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .pool_max_idle_per_host(1)
            .connect_timeout(Duration::from_secs(15))
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Setup(conn.token.redact(&e.to_string())))?;
        Ok(Self {
            http,
            api: conn.api.clone(),
            token: conn.token.clone(),
            pacer: Pacer::for_api(&conn.api),
            observer,
            stats: Stats::default(),
        })
    }

    /// The API base, for keys and messages.
    pub(crate) fn api(&self) -> &str {
        &self.api
    }

    /// GET `path` and decode the JSON body; any non-2xx status is an error.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &mut self,
        path: &str,
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.api);
        let answer = self.send(Method::GET, &url, None).await?;
        let request = format!("GET {path}");
        if !(200..300).contains(&answer.status) {
            return Err(self.status_error(&request, &answer));
        }
        self.decode(&request, &answer)
    }

    /// Every item of a paginated listing: `items` is the array's key (`secrets`, `variables`).
    pub(crate) async fn list<T: DeserializeOwned>(
        &mut self,
        path: &str,
        items: &str,
        per_page: u32,
    ) -> Result<Vec<T>, ApiError> {
        let mut url = format!("{}{path}?per_page={per_page}", self.api);
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let request = format!("GET {}", self.show(&url));
            let answer = self.send(Method::GET, &url, None).await?;
            if !(200..300).contains(&answer.status) {
                return Err(self.status_error(&format!("GET {path}"), &answer));
            }
            let mut page: serde_json::Map<String, serde_json::Value> =
                self.decode(&request, &answer)?;
            let list = page.remove(items).ok_or_else(|| ApiError::Unexpected {
                request: request.clone(),
                message: format!("the answer has no `{items}` list"),
            })?;
            let list: Vec<T> = serde_json::from_value(list).map_err(|e| ApiError::Unexpected {
                request: request.clone(),
                message: format!("unexpected `{items}` list: {e}"),
            })?;
            all.extend(list);
            match answer.next {
                None => return Ok(all),
                Some(next) if next.starts_with(&format!("{}/", self.api)) => url = next,
                Some(next) => {
                    return Err(ApiError::Unexpected {
                        request,
                        message: format!(
                            "the next page is on another server ({}); not following it with the token",
                            self.token.redact(&next)
                        ),
                    });
                }
            }
        }
        Err(ApiError::Unexpected {
            request: format!("GET {path}"),
            message: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// A write (`PUT`, `POST`, `PATCH`, `DELETE`) of `path`; the answer whatever its status.
    pub(crate) async fn write(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ApiError> {
        let url = format!("{}{path}", self.api);
        self.stats.writes += 1;
        self.send(method, &url, body).await
    }

    /// The error for a final non-2xx answer.
    pub(crate) fn status_error(&self, request: &str, answer: &Answer) -> ApiError {
        let message = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&answer.body)
                    .chars()
                    .take(200)
                    .collect()
            });
        let hint = match answer.status {
            401 => " (the token was refused: check GH_TOKEN/GITHUB_TOKEN)",
            403 => {
                " (the token may not write here: it needs Secrets and Variables write access, plus Environments for environment targets or the organization permissions for org targets)"
            }
            404 => " (not found, or not visible to the token)",
            _ => "",
        };
        ApiError::Status {
            request: request.to_owned(),
            status: answer.status,
            message: self.token.redact(message.trim()),
            hint,
        }
    }

    fn decode<T: DeserializeOwned>(&self, request: &str, answer: &Answer) -> Result<T, ApiError> {
        serde_json::from_slice(&answer.body).map_err(|e| ApiError::Unexpected {
            request: request.to_owned(),
            message: format!("the answer is not the expected JSON: {e}"),
        })
    }

    /// The URL without the API base, for messages.
    fn show(&self, url: &str) -> String {
        self.token
            .redact(url.strip_prefix(&self.api).unwrap_or(url))
    }

    /// Send one request, with pacing for writes and the retry rules above.
    async fn send(
        &mut self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ApiError> {
        let write = method != Method::GET;
        let request = format!("{method} {}", self.show(url));
        let (mut attempts, mut transient, mut limited) = (0u32, 0u32, 0u32);
        loop {
            if write {
                let wait = self.pacer.delay(Instant::now());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                self.pacer.sent(Instant::now());
            }
            let sent = Instant::now();
            attempts += 1;
            self.stats.requests += 1;
            if attempts > 1 {
                self.stats.retries += 1;
            }
            let mut req = self.http.request(method.clone(), url);
            if let Some(b) = body {
                req = req.json(b);
            }
            let result = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    resp.bytes().await.map(|b| (status, headers, b.to_vec()))
                }
                Err(e) => Err(e),
            };
            let took = sent.elapsed().as_millis();
            let (status, headers, body_bytes) = match result {
                Ok(ok) => ok,
                Err(e) => {
                    let message = self.token.redact(&transport_message(&e));
                    self.observer
                        .debug(&format!("{request} → {message} ({took} ms)"));
                    if transient < MAX_TRANSIENT {
                        let wait = backoff(transient);
                        transient += 1;
                        self.observer
                            .debug(&format!("retrying {request} in {} ms", wait.as_millis()));
                        self.stats.waited += wait;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ApiError::Transport {
                        request,
                        message,
                        attempts,
                    });
                }
            };
            self.observer
                .debug(&format!("{request} → {status} ({took} ms)"));
            let date = header_str(&headers, "date").and_then(dates::parse_http_date);
            if let Some(limit) = rate_limit(status, &headers, &body_bytes, date, limited) {
                limited += 1;
                self.stats.rate_limited += 1;
                if write {
                    if let Some(window) = limit.window {
                        if let Some(spacing) = self.pacer.limited(Instant::now(), window) {
                            self.observer.debug(&format!(
                                "pacing writes {} ms apart from now on",
                                spacing.as_millis()
                            ));
                        }
                    }
                }
                if limited > MAX_LIMITED || limit.wait > MAX_WAIT {
                    let until = dates::format_rfc3339(
                        date.unwrap_or_else(dates::now)
                            + i64::try_from(limit.wait.as_secs()).unwrap_or(i64::MAX / 2),
                    );
                    return Err(ApiError::RateLimited {
                        request,
                        message: format!(
                            "GitHub's {} still applies after {} retries; it asks to wait until {until}: re-run then",
                            limit.why,
                            limited - 1
                        ),
                    });
                }
                self.observer.waiting(&format!(
                    "GitHub {} ({status}): waiting {:.1} s before retrying {request}",
                    limit.why,
                    limit.wait.as_secs_f64()
                ));
                self.stats.waited += limit.wait;
                tokio::time::sleep(limit.wait).await;
                continue;
            }
            if status >= 500 && transient < MAX_TRANSIENT {
                let wait = backoff(transient);
                transient += 1;
                self.observer
                    .debug(&format!("retrying {request} in {} ms", wait.as_millis()));
                self.stats.waited += wait;
                tokio::time::sleep(wait).await;
                continue;
            }
            if write && status < 300 {
                self.pacer.accepted(sent);
            }
            let next = header_str(&headers, "link").and_then(next_link);
            return Ok(Answer {
                status,
                date,
                next,
                body: body_bytes,
            });
        }
    }

    /// The learned spacing between writes (for the summary).
    pub(crate) fn pacing(&self) -> Duration {
        self.pacer.interval()
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok()
}

/// Whether an answer is a rate limit, and how long to wait (§4 retry rules, in order).
fn rate_limit(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    date: Option<i64>,
    earlier: u32,
) -> Option<Limit> {
    if status != 429 && status != 403 {
        return None;
    }
    let now = date.unwrap_or_else(dates::now);
    if let Some(v) = header_str(headers, "retry-after") {
        let v = v.trim();
        let secs = v
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .or_else(|| dates::parse_http_date(v).map(|t| (t - now).max(0) as f64))?;
        let wait = Duration::from_secs_f64(secs);
        return Some(Limit {
            wait,
            window: Some(wait.max(Duration::from_secs(1))),
            why: if status == 429 {
                "rate limit"
            } else {
                "secondary rate limit"
            },
        });
    }
    let remaining =
        header_str(headers, "x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok());
    let reset = header_str(headers, "x-ratelimit-reset").and_then(|v| v.trim().parse::<i64>().ok());
    if remaining == Some(0) {
        if let Some(reset) = reset {
            return Some(Limit {
                wait: Duration::from_secs(u64::try_from((reset - now).max(0)).unwrap_or(0) + 1),
                window: None,
                why: "primary rate limit",
            });
        }
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    if status == 429 || text.contains("rate limit") {
        // Rule 3: at least a minute, then exponential.
        let wait = Duration::from_secs(60u64 << earlier.min(4));
        return Some(Limit {
            wait,
            window: Some(Duration::from_secs(60)),
            why: "secondary rate limit",
        });
    }
    None
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

/// Exponential backoff with up to 25 % jitter: 0.5 s, 1 s, 2 s, 4 s.
fn backoff(retry: u32) -> Duration {
    let base = BACKOFF * 2u32.pow(retry.min(6));
    let jitter = getrandom::u32().unwrap_or(0) % 250;
    base + base.mul_f64(f64::from(jitter) / 1000.0)
}

/// A transport error in a few words (reqwest's chain, without the URL it repeats).
fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "connection failed"
    };
    let mut detail = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push(s.to_string());
        source = s.source();
    }
    match detail.last() {
        Some(d) => format!("{kind}: {d}"),
        None => kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn rate_limit_rules_in_order() {
        let now = 1_768_046_400;
        let l = rate_limit(429, &headers(&[("retry-after", "3")]), b"", Some(now), 0).unwrap();
        assert_eq!(l.wait, Duration::from_secs(3));
        let l = rate_limit(
            403,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &(now + 30).to_string()),
            ]),
            b"{}",
            Some(now),
            0,
        )
        .unwrap();
        assert_eq!(l.wait, Duration::from_secs(31));
        assert_eq!(l.window, None);
        let body = br#"{"message":"You have exceeded a secondary rate limit."}"#;
        let l = rate_limit(403, &headers(&[]), body, Some(now), 1).unwrap();
        assert_eq!(l.wait, Duration::from_secs(120));
        // A 403 that is a permission problem is not retried.
        let body = br#"{"message":"Resource not accessible by personal access token"}"#;
        assert_eq!(rate_limit(403, &headers(&[]), body, Some(now), 0), None);
        assert_eq!(
            rate_limit(404, &headers(&[("retry-after", "1")]), b"", None, 0),
            None
        );
        let l = rate_limit(
            429,
            &headers(&[("retry-after", "Sat, 10 Jan 2026 12:00:05 GMT")]),
            b"",
            Some(now),
            0,
        )
        .unwrap();
        assert_eq!(l.wait, Duration::from_secs(5));
    }

    #[test]
    fn link_headers() {
        let link = r#"<https://api.github.com/x?page=2&per_page=30>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/x?page=2&per_page=30")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
    }

    #[test]
    fn backoff_grows() {
        assert!(
            backoff(0) >= Duration::from_millis(500) && backoff(0) < Duration::from_millis(650)
        );
        assert!(backoff(3) >= Duration::from_secs(4));
    }
}
