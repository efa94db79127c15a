//! The object-storage client: one tokio runtime (built on the first `s3://` path, never for a
//! local run) and one `object_store` S3 store per bucket, path-style, with object_store's own
//! retries off. Retries are ours (few, short, counted), so the progress line and the closing
//! line can say when a request was retried instead of a run stalling silently for seconds.
//! Every range is bounded and sent as its own request: no suffix or open-ended ranges, no
//! `get_ranges` (it merges nearby ranges into one full GET).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path as KeyPath;
use object_store::{ClientOptions, GetOptions, GetRange, ObjectStore, RetryConfig};

use crate::config::file::S3Table;

/// Settings resolved from `AWS_*` variables over noai.toml's `[s3]` table.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub allow_http: Option<bool>,
    /// Extra attempts after a failed request (default 2).
    pub retries: u32,
    /// Per-request timeout (default 30 s; connecting: 5 s).
    pub timeout: Duration,
    /// `NOAI_S3_WHOLE=1`: fetch every object whole in one GET, the baseline of bench/s3.
    pub whole: bool,
}

impl Settings {
    /// The environment wins over the file, as for every AWS tool; keys come only from the
    /// environment (or the instance's role), never from a file that may be committed.
    pub fn resolve(table: Option<&S3Table>) -> Settings {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let t = table.cloned().unwrap_or_default();
        Settings {
            endpoint: env("AWS_ENDPOINT_URL").or(t.endpoint_url),
            region: env("AWS_REGION")
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .or(t.region),
            allow_http: env("AWS_ALLOW_HTTP")
                .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
                .or(t.allow_http),
            retries: t.retries.unwrap_or(2),
            timeout: Duration::from_secs(t.timeout_secs.unwrap_or(30).max(1)),
            whole: env("NOAI_S3_WHOLE").is_some(),
        }
    }

    /// Where requests go, for messages (never a key or a secret).
    pub fn endpoint_name(&self) -> String {
        match (&self.endpoint, &self.region) {
            (Some(e), _) => e.clone(),
            (None, Some(r)) => format!("https://s3.{r}.amazonaws.com"),
            (None, None) => "https://s3.amazonaws.com".into(),
        }
    }
}

/// Counters for the closing line and the bench: what a catalogue check cost on the wire.
#[derive(Debug, Default)]
pub struct Stats {
    pub objects: AtomicU64,
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub retries: AtomicU64,
}

/// A failed request: the message for the report, and whether another attempt may help.
#[derive(Debug)]
pub struct Failure {
    pub msg: String,
    pub not_found: bool,
    retryable: bool,
}

pub struct Client {
    runtime: tokio::runtime::Runtime,
    pub settings: Settings,
    stores: Mutex<HashMap<String, Arc<AmazonS3>>>,
    pub stats: Stats,
}

/// One page of a listing: (key, size) in key order, and the token of the next page.
pub type Page = (Vec<(String, u64)>, Option<String>);

impl Client {
    pub fn new(settings: Settings) -> std::io::Result<Client> {
        // Two workers drive the sockets; the rayon workers block on them (`block_on`).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("noai-s3")
            .enable_all()
            .build()?;
        Ok(Client {
            runtime,
            settings,
            stores: Mutex::new(HashMap::new()),
            stats: Stats::default(),
        })
    }

    fn store(&self, bucket: &str) -> Result<Arc<AmazonS3>, String> {
        let mut stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = stores.get(bucket) {
            return Ok(s.clone());
        }
        let s = &self.settings;
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                max_retries: 0,
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(s.timeout)
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_allow_http(s.allow_http.unwrap_or(false)),
            );
        if let Some(e) = &s.endpoint {
            b = b.with_endpoint(e);
        }
        if let Some(r) = &s.region {
            b = b.with_region(r);
        }
        let store = Arc::new(b.build().map_err(|e| e.to_string())?);
        stores.insert(bucket.to_string(), store.clone());
        Ok(store)
    }

    /// One page of keys starting with the raw `prefix` (not object_store's `Path`, which
    /// would add a `/`).
    pub fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        token: Option<String>,
    ) -> Result<Page, Failure> {
        let store = self.store(bucket).map_err(Failure::new)?;
        let prefix = (!prefix.is_empty()).then_some(prefix);
        let page = self.runtime.block_on(self.retrying(|| {
            let opts = PaginatedListOptions {
                page_token: token.clone(),
                max_keys: Some(1000),
                ..Default::default()
            };
            let store = store.clone();
            async move { store.list_paginated(prefix, opts).await }
        }))?;
        let mut keys: Vec<(String, u64)> = (page.result.objects.into_iter())
            .map(|m| (m.location.as_ref().to_string(), m.size))
            .collect();
        keys.sort();
        Ok((keys, page.page_token))
    }

    /// The bytes of each range of object `key`, each range its own bounded GET, all in flight
    /// at once. The caller never asks for an empty range (servers answer 416 or 500 to a range
    /// on a 0-byte object).
    pub fn get(
        &self,
        bucket: &str,
        key: &str,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Vec<u8>>, Failure> {
        let store = self.store(bucket).map_err(Failure::new)?;
        let path = KeyPath::parse(key).unwrap_or_else(|_| KeyPath::from(key));
        let one = |range: Range<u64>| {
            let (store, path) = (store.clone(), path.clone());
            async move {
                let bytes = self
                    .retrying(|| {
                        let opts = GetOptions {
                            range: Some(GetRange::Bounded(range.clone())),
                            ..Default::default()
                        };
                        let (store, path) = (store.clone(), path.clone());
                        async move { store.get_opts(&path, opts).await?.bytes().await }
                    })
                    .await?;
                self.stats
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if bytes.len() as u64 != range.end - range.start {
                    return Err(Failure::new(format!(
                        "truncated body: asked for bytes {}..{}, got {} bytes (changed since it was listed?)",
                        range.start,
                        range.end,
                        bytes.len()
                    )));
                }
                Ok(bytes.to_vec())
            }
        };
        let all = futures::future::try_join_all(ranges.iter().cloned().map(one));
        self.runtime.block_on(all)
    }

    /// Runs the request, again up to `retries` times after a retryable failure (a 5xx, a
    /// timeout, a dropped connection), 200 ms then 400 ms… apart.
    async fn retrying<T, F, Fut>(&self, mut request: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = object_store::Result<T>>,
    {
        let mut attempt = 0;
        loop {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            match request().await.map_err(Failure::from) {
                Err(f) if f.retryable && attempt < self.settings.retries => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                    attempt += 1;
                }
                Err(mut f) if attempt > 0 => {
                    f.msg = format!("{} (after {attempt} retries)", f.msg);
                    return Err(f);
                }
                other => return other,
            }
        }
    }
}

impl Failure {
    /// A failure another attempt would not mend.
    pub fn new(msg: String) -> Failure {
        Failure {
            msg,
            not_found: false,
            retryable: false,
        }
    }
}

impl From<object_store::Error> for Failure {
    fn from(e: object_store::Error) -> Failure {
        let status = status_of(&e);
        let code = error_code(&e);
        let not_found = matches!(e, object_store::Error::NotFound { .. });
        let msg = match (status, code) {
            (Some(s), Some(c)) => format!("HTTP {s} {c}"),
            (Some(s), None) => format!("HTTP {s}"),
            (None, _) => transport(&e),
        };
        Failure {
            msg,
            not_found,
            retryable: status.is_none_or(|s| s >= 500 || s == 429),
        }
    }
}

/// The HTTP status inside an object_store error, if a response came back (its error type is
/// private, so the status is read from the message it always writes: "status code: 403 …").
fn status_of(e: &object_store::Error) -> Option<u16> {
    let text = e.to_string();
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

/// S3's error code (`<Code>SignatureDoesNotMatch</Code>`) from the response body.
fn error_code(e: &object_store::Error) -> Option<String> {
    let text = e.to_string();
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    Some(text[start..start + len].to_string())
}

/// A short reason for a request that got no response: the innermost error, which names the
/// cause (connection refused, timed out, DNS).
fn transport(e: &object_store::Error) -> String {
    let mut last = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}
