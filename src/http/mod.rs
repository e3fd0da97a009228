//! The HTTP client of the API transports (Gmail, Microsoft Graph) and of the OAuth layer:
//! one hyper client (rustls with the system's
//! roots; plain `http://` allowed so tests and proxies can stand in for Google), whole
//! bodies in memory, one timeout per request, and every answer returned with its status
//! and headers so the caller decides what is transient, what needs a new login and what
//! is final. Nothing here logs headers or bodies: they carry tokens.

use std::time::Duration;

pub mod retry;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::Method;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// API answers are small JSON documents; refuse to buffer more than this.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// OAuth endpoints (token, device authorization) answer with a few hundred bytes.
pub const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

pub struct Http {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

/// A complete HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The request got no answer.
#[derive(Debug)]
pub struct Failure {
    /// The connection was never made: the server cannot have seen the request, so
    /// trying again is safe.
    pub before_sending: bool,
    pub message: String,
}

/// The system's trusted roots. A machine without any still gets a client: plain http
/// works, and https fails later with a clear "unknown issuer" instead of here.
fn root_store() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        tracing::warn!("no trusted root certificates found on this system; https will fail");
    }
    roots
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, String> {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(root_store())
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Http { client, timeout })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send one request and read the whole answer, within the timeout.
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<Answer, Failure> {
        self.request_bounded(method, url, headers, body, MAX_ANSWER_BYTES)
            .await
    }

    /// `request`, reading at most `max_answer` bytes of the answer's body.
    pub async fn request_bounded(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
        max_answer: usize,
    ) -> Result<Answer, Failure> {
        let uri: hyper::Uri = url.parse().map_err(|e| Failure {
            before_sending: true,
            message: format!("bad URL {}: {e}", redact_query(url)),
        })?;
        let mut req = hyper::Request::builder().method(method).uri(uri);
        if let Some(h) = req.headers_mut() {
            h.insert(
                hyper::header::USER_AGENT,
                HeaderValue::from_static(concat!("missive/", env!("CARGO_PKG_VERSION"))),
            );
            for (k, v) in headers {
                let name = HeaderName::from_bytes(k.as_bytes());
                let value = HeaderValue::from_str(v);
                if let (Ok(name), Ok(mut value)) = (name, value) {
                    if name == hyper::header::AUTHORIZATION {
                        value.set_sensitive(true);
                    }
                    h.insert(name, value);
                }
            }
        }
        let req = req.body(Full::new(body)).map_err(|e| Failure {
            before_sending: true,
            message: format!("cannot build the request: {e}"),
        })?;
        let call = async {
            let res = self.client.request(req).await.map_err(|e| Failure {
                before_sending: e.is_connect(),
                message: crate::transport::error_chain(&e),
            })?;
            let (parts, body) = res.into_parts();
            let body = Limited::new(body, max_answer)
                .collect()
                .await
                .map_err(|e| Failure {
                    before_sending: false,
                    message: format!(
                        "reading the answer: {}",
                        crate::transport::error_chain(e.as_ref())
                    ),
                })?
                .to_bytes();
            Ok(Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(Failure {
                before_sending: false,
                message: format!(
                    "no answer from {} within {} s",
                    redact_query(url),
                    self.timeout.as_secs()
                ),
            }),
        }
    }
}

/// A URL without its query string (which, for an upload session, is a credential of
/// sorts), for error messages.
pub fn redact_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}
