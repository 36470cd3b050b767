//! The audit log through the admin API: a page of a search, the export read line by line, and
//! a signed checkpoint of the chain's head.

use super::{AdminClient, decode};
use crate::error::ClientError;
use assent_proto::api::{AuditCheckpoint, AuditPage};
use futures_util::StreamExt as _;

/// An export being read: its lines, one at a time, as they arrive.
pub struct AuditExport {
    body: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, reqwest::Error>>,
    pending: Vec<u8>,
}

impl AuditExport {
    /// The next line (without its line feed); `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<String>, ClientError> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(Some(
                    String::from_utf8_lossy(&line[..line.len() - 1]).into_owned(),
                ));
            }
            match self.body.next().await {
                Some(chunk) => self.pending.extend_from_slice(&chunk?),
                None if self.pending.is_empty() => return Ok(None),
                None => {
                    return Err(ClientError::Unexpected {
                        status: 200,
                        body: "the export ended in the middle of a line".into(),
                    });
                }
            }
        }
    }
}

fn query_string(query: &[(&str, String)]) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        url.append_pair(k, v);
    }
    url.finish()
}

impl AdminClient {
    /// `GET /v1/admin/audit` with the search parameters (`after`, `limit`, `since`, `until`,
    /// `kind`, `user`, `device`, `app`).
    pub async fn audit_page(&self, query: &[(&str, String)]) -> Result<AuditPage, ClientError> {
        self.0
            .get(&format!("/v1/admin/audit?{}", query_string(query)))
            .await
    }

    /// `GET /v1/admin/audit/export` with the same parameters and `format`.
    pub async fn audit_export(&self, query: &[(&str, String)]) -> Result<AuditExport, ClientError> {
        // No total deadline: an export of a large log takes as long as it takes.
        let response = crate::http::http_client(None)?
            .get(format!(
                "{}/v1/admin/audit/export?{}",
                self.0.base,
                query_string(query)
            ))
            .bearer_auth(&self.0.key)
            .send()
            .await?;
        if !response.status().is_success() {
            // The problem document, as every other call reports it.
            return Err(decode::<serde_json::Value>(response).await.err().unwrap_or(
                ClientError::Unexpected {
                    status: 0,
                    body: "the export was refused".into(),
                },
            ));
        }
        Ok(AuditExport {
            body: response.bytes_stream().boxed(),
            pending: Vec::new(),
        })
    }

    /// `GET /v1/admin/audit/checkpoint`.
    pub async fn audit_checkpoint(&self) -> Result<AuditCheckpoint, ClientError> {
        self.0.get("/v1/admin/audit/checkpoint").await
    }
}
