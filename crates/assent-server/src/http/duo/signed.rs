//! Reading an Auth API request as its signature covers it: the date header, the method, the
//! host names the client may have signed, the path, the parameters (query, form body, or the
//! JSON body of signature version 5) and the `X-Duo-*` headers.

use assent_core::duo::{DuoError, SignedRequest};
use assent_proto::duo::api::DuoErrorCode;
use assent_proto::duo::params::{MAX_PARAMS_LEN, parse_form, parse_query};
use assent_proto::duo::request::DuoParams;
use axum::extract::Request;
use axum::http::{HeaderMap, header};

/// Most `X-Duo-*` headers read.
const MAX_DUO_HEADERS: usize = 16;

/// A received call, owned, from which a [`SignedRequest`] borrows.
pub(crate) struct Received {
    pub authorization: Option<String>,
    pub date: Option<String>,
    pub method: String,
    pub hosts: Vec<String>,
    pub path: String,
    pub signed_params: Vec<(String, String)>,
    pub json_body: Option<Vec<u8>>,
    pub duo_headers: Vec<(String, String)>,
    pub user_agent: Option<String>,
    /// What the handler reads.
    pub params: DuoParams,
}

impl Received {
    pub fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            authorization: self.authorization.as_deref(),
            date: self.date.as_deref(),
            method: &self.method,
            hosts: &self.hosts,
            path: &self.path,
            params: &self.signed_params,
            json_body: self.json_body.as_deref(),
            duo_headers: &self.duo_headers,
            legacy_v1: self.path.starts_with("/rest/v1/"),
        }
    }
}

/// A request that cannot be read as signed: each surface answers it in its own format.
fn invalid(detail: &str) -> DuoError {
    DuoError::Refused {
        code: DuoErrorCode::InvalidParameters,
        detail: Some(detail.to_owned()),
        retry_after: None,
    }
}

/// One header's text; a header given twice or not visible ASCII is refused, since the
/// signature covers one reading of it.
fn single(headers: &HeaderMap, name: &str) -> Result<Option<String>, String> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("the {name} header appears more than once"));
    }
    first
        .to_str()
        .map(|v| Some(v.to_owned()))
        .map_err(|_| format!("the {name} header is not visible ASCII"))
}

/// The host names a client may have signed: the `Host` header (or the HTTP/2 authority) as
/// sent, lower-cased, and without its port.
fn hosts(request: &Request) -> Result<Vec<String>, String> {
    let host = match single(request.headers(), "host")? {
        Some(host) => host,
        None => request
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
    };
    let host = host.to_ascii_lowercase();
    let mut hosts = vec![host.clone()];
    if let Some((name, port)) = host.rsplit_once(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
    {
        hosts.push(name.to_owned());
    }
    Ok(hosts)
}

/// Reads a call. A `POST` body is a form (signature version 2) or JSON (version 5), chosen
/// by its `Content-Type`; a `GET` carries its parameters in the query.
pub(crate) async fn read(request: Request) -> Result<Received, DuoError> {
    let headers = request.headers();
    let one = |name: &str| single(headers, name);
    let authorization = one("authorization").map_err(|e| invalid(&e))?;
    // duo_unix sends X-Duo-Date and no Date; duo_client sends Date. The signature covers the
    // one the client chose, which X-Duo-Date is whenever it is present.
    let date = match one("x-duo-date").map_err(|e| invalid(&e))? {
        Some(date) => Some(date),
        None => one("date").map_err(|e| invalid(&e))?,
    };
    let user_agent = one("user-agent").map_err(|e| invalid(&e))?;
    let mut duo_headers = Vec::new();
    for (name, value) in headers {
        if name.as_str().starts_with("x-duo-") {
            if duo_headers.len() == MAX_DUO_HEADERS {
                return Err(invalid("too many X-Duo-* headers"));
            }
            let value = value
                .to_str()
                .map_err(|_| invalid("an X-Duo-* header is not visible ASCII"))?;
            duo_headers.push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    let content_type = one(header::CONTENT_TYPE.as_str())
        .map_err(|e| invalid(&e))?
        .and_then(|v| v.split(';').next().map(|t| t.trim().to_ascii_lowercase()));
    let hosts = hosts(&request).map_err(|e| invalid(&e))?;
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let bytes = axum::body::to_bytes(request.into_body(), MAX_PARAMS_LEN)
        .await
        .map_err(|_| invalid("the body is too large or was cut off"))?;
    let from_query = parse_query(&query).map_err(|e| invalid(&e.to_string()))?;
    let (signed_params, json_body, params) = if method == "GET" {
        if !bytes.is_empty() {
            return Err(invalid("a GET call has no body"));
        }
        (from_query.clone(), None, DuoParams::from_pairs(from_query))
    } else {
        if !from_query.is_empty() {
            return Err(invalid("a POST call carries its parameters in the body"));
        }
        match content_type.as_deref() {
            Some("application/json") => {
                let params = DuoParams::from_json(&bytes)
                    .map_err(|e| invalid(&format!("{}: {}", e.param, e.reason)))?;
                (Vec::new(), Some(bytes.to_vec()), params)
            }
            Some("application/x-www-form-urlencoded") | None => {
                let pairs = parse_form(&bytes).map_err(|e| invalid(&e.to_string()))?;
                (pairs.clone(), None, DuoParams::from_pairs(pairs))
            }
            Some(_) => {
                return Err(invalid(
                    "the body is application/x-www-form-urlencoded or application/json",
                ));
            }
        }
    };
    Ok(Received {
        authorization,
        date,
        method,
        hosts,
        path,
        signed_params,
        json_body,
        duo_headers,
        user_agent,
        params,
    })
}
