//! Auth API calls signed here as Duo's clients sign them (version 2, HMAC-SHA512, the form
//! duo_unix sends), so that a test can send exactly what it means to, tampered or replayed, and
//! read exactly what the server answered: the status, Duo's envelope and `Retry-After`.

use super::{Keys, Target};
use assent_core::Clock as _;
use assent_proto::duo::canonical::canonical_v2;
use assent_proto::duo::params::encode_form;
use assent_proto::duo::signature::{Digest, format_authorization, sign};
use assent_testkit::TestServer;
use serde_json::Value;

/// A signed call before it is sent: kept whole, so that it can be sent twice.
#[derive(Clone)]
pub(super) struct Call {
    pub method: &'static str,
    pub path: &'static str,
    pub params: Vec<(String, String)>,
    pub date: String,
    pub authorization: Option<String>,
}

/// What the server answered.
#[derive(Debug)]
pub(super) struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl Answer {
    /// The `response` of an `OK` answer.
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.body["stat"], "OK", "{self:?}");
        &self.body["response"]
    }

    /// Checks Duo's error shape (status, `stat`, `code`, `message`); the `message_detail`.
    pub fn fail(&self, code: u32, message: &str) -> String {
        assert_eq!(u32::from(self.status), code / 100, "{self:?}");
        assert_eq!(self.body["stat"], "FAIL", "{self:?}");
        assert_eq!(self.body["code"], code, "{self:?}");
        assert_eq!(self.body["message"], message, "{self:?}");
        self.body["message_detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Signs and sends calls for one integration.
pub(super) struct Signer {
    base: String,
    host: String,
    keys: Keys,
    http: reqwest::Client,
}

impl Signer {
    pub fn new(target: &Target, keys: &Keys) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Signer {
            base: target.base(),
            host: target.host.clone(),
            keys: keys.clone(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(90))
                .build()
                .unwrap(),
        }
    }

    /// The server's time as a Duo client writes its `Date`.
    pub fn date_now(server: &TestServer) -> String {
        Self::date_at(server.clock.now())
    }

    /// A time as a Duo client writes its `Date`.
    pub fn date_at(at: time::OffsetDateTime) -> String {
        at.format(&time::format_description::well_known::Rfc2822)
            .unwrap()
    }

    /// The `Authorization` header of a call, signed with `skey`.
    pub fn authorization(&self, skey: &str, call: &Call) -> String {
        let canonical = canonical_v2(&call.date, call.method, &self.host, call.path, &call.params);
        let signature = sign(skey.as_bytes(), &canonical, Digest::Sha512);
        format_authorization(&self.keys.ikey, &signature)
    }

    /// A call dated now and signed with the integration's secret key.
    pub fn call(
        &self,
        server: &TestServer,
        method: &'static str,
        path: &'static str,
        params: &[(&str, &str)],
    ) -> Call {
        let mut call = Call {
            method,
            path,
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            date: Self::date_now(server),
            authorization: None,
        };
        call.authorization = Some(self.authorization(&self.keys.skey, &call));
        call
    }

    /// Sends a call as it is.
    pub async fn send(&self, call: &Call) -> Answer {
        let url = format!("{}{}", self.base, call.path);
        let form = encode_form(&call.params);
        let mut request = if call.method == "GET" {
            self.http.get(format!("{url}?{form}"))
        } else {
            self.http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
        };
        request = request.header("date", &call.date);
        if let Some(authorization) = &call.authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        Answer {
            status,
            body,
            retry_after,
        }
    }

    /// Signs a call dated now and sends it.
    pub async fn request(
        &self,
        server: &TestServer,
        method: &'static str,
        path: &'static str,
        params: &[(&str, &str)],
    ) -> Answer {
        self.send(&self.call(server, method, path, params)).await
    }
}
