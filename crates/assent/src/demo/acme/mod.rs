//! Acme Bank, the demo relying party: a password login that asks Assent for an approval and
//! shows the code to type, a money transfer whose approval carries the amount, currency and
//! recipient and needs user verification, and a page that decodes and verifies the last receipt.
//! It talks to Assent only through the public relying-party API, as any integration would.

use assent_client::RpClient;
use assent_proto::api::{ApprovalKind, ApprovalState, CreateApproval, RequestContext};
use assent_proto::jose::{JwkSet, Parsed, random_token};
use assent_proto::receipt::verify_receipt;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;

mod elevation;

pub use elevation::ADMIN_GROUP;

const COOKIE: &str = "acme_session";
const SCRIPT: &str = include_str!("../acme.js");
const STYLE: &str = include_str!("../acme.css");

/// What one browser session holds.
#[derive(Debug, Default, Clone)]
struct Session {
    /// Set once a login approval came back approved.
    user: Option<String>,
    /// The approvals this session started, by id, with what each was for.
    approvals: HashMap<String, Purpose>,
    /// The last final approval's receipt.
    last_receipt: Option<String>,
}

#[derive(Debug, Clone)]
enum Purpose {
    Login {
        user: String,
        code: Option<String>,
    },
    Transfer {
        summary: String,
        code: Option<String>,
    },
}

struct Acme {
    rp: RpClient,
    assent_url: String,
    sessions: Mutex<HashMap<String, Session>>,
    /// Admin elevations asked for, by access request id (shared by every session: the
    /// approvers see them from their own).
    elevations: Mutex<HashMap<String, elevation::Elevation>>,
}

type Shared = Arc<Acme>;

/// A running Acme server.
pub struct RunningAcme {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl RunningAcme {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn abort(self) {
        self.task.abort();
    }
}

/// Starts Acme on `listen`, talking to Assent at `assent_url` with `api_key`.
pub async fn start(
    listen: SocketAddr,
    assent_url: &str,
    api_key: &str,
) -> crate::cmd::CmdResult<RunningAcme> {
    let acme = Arc::new(Acme {
        rp: RpClient::new(assent_url, api_key)?,
        assent_url: assent_url.to_owned(),
        sessions: Mutex::new(HashMap::new()),
        elevations: Mutex::new(HashMap::new()),
    });
    let app = Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/transfer", get(transfer_form).post(transfer))
        .route("/wait/{id}", get(wait_page))
        .route("/api/status/{id}", get(status))
        .route("/receipt", get(receipt_page))
        .route("/elevate", get(elevation::form).post(elevation::create))
        .route("/elevations", get(elevation::list))
        .route("/elevation/{id}", get(elevation::show))
        .route("/api/elevation/{id}", get(elevation::progress))
        .route(
            "/acme.js",
            get(|| static_asset(SCRIPT, "text/javascript; charset=utf-8")),
        )
        .route(
            "/acme.css",
            get(|| static_asset(STYLE, "text/css; charset=utf-8")),
        )
        .with_state(acme);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let port = listener.local_addr()?.port();
    let task = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            eprintln!("Acme stopped: {e}");
        }
    });
    Ok(RunningAcme { port, task })
}

// ------------------------------------------------------------------ sessions

fn session_id(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|c| {
        c.trim()
            .strip_prefix(&format!("{COOKIE}="))
            .map(str::to_owned)
    })
}

impl Acme {
    fn session(&self, headers: &HeaderMap) -> (String, Session, bool) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((id, session)) =
            session_id(headers).and_then(|id| sessions.get(&id).cloned().map(|s| (id, s)))
        {
            return (id, session, false);
        }
        let id = random_token(24).unwrap_or_default();
        sessions.insert(id.clone(), Session::default());
        (id, Session::default(), true)
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Session)) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        change(sessions.entry(id.to_owned()).or_default());
    }
}

fn with_cookie(mut response: Response, id: &str, new: bool) -> Response {
    if new {
        let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

// ------------------------------------------------------------------ pages

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Acme Bank</title><link rel="stylesheet" href="/acme.css"><script type="module" src="/acme.js"></script></head>
<body><header class="bar"><a class="brand" href="/">Acme Bank</a><span class="tag">demo relying party</span></header><main>{body}</main></body></html>"#,
        title = esc(title)
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    response
}

async fn static_asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn login_form(error: Option<&str>) -> String {
    let users = super::DEMO_USERS
        .iter()
        .map(|(u, p)| format!("<code>{}</code> / <code>{}</code>", esc(u), esc(p)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"<h1>Sign in</h1>{error}
<form method="post" action="/login" class="card">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button></form>
<p class="hint">Demo accounts: {users}. After the password, Acme asks Assent to confirm on your enrolled authenticator.</p>"#,
        error = error
            .map(|e| format!(r#"<p class="problem" role="alert">{}</p>"#, esc(e)))
            .unwrap_or_default()
    )
}

async fn home(State(acme): State<Shared>, headers: HeaderMap) -> Response {
    let (id, session, new) = acme.session(&headers);
    let body = match &session.user {
        Some(user) => format!(
            r#"<h1 id="signed-in">Welcome, {user}</h1><p class="ok">You are signed in. Assent confirmed it was you.</p>
<div class="card"><a class="button primary" href="/transfer">Send money</a> <a class="button" href="/receipt">Last approval receipt</a>
<a class="button" href="/elevate">Request admin access</a> <a class="button" href="/elevations">Admin access requests</a>
<form method="post" action="/logout" class="inline"><button type="submit">Sign out</button></form></div>"#,
            user = esc(user)
        ),
        None => login_form(None),
    };
    with_cookie(page("Acme Bank", &body), &id, new)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

fn context(headers: &HeaderMap, peer: SocketAddr, session: &str) -> RequestContext {
    RequestContext {
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect()),
        device_id: Some(format!("acme-session-{}", &session[..8.min(session.len())])),
        geo: None,
    }
}

async fn login(
    State(acme): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let (sid, _, new) = acme.session(&headers);
    let username = form.username.trim().to_ascii_lowercase();
    let known = super::DEMO_USERS.iter().find(|(u, _)| *u == username);
    let password_ok =
        known.is_some_and(|(_, p)| bool::from(p.as_bytes().ct_eq(form.password.as_bytes())));
    if !password_ok {
        return with_cookie(
            page("Sign in", &login_form(Some("Wrong username or password."))),
            &sid,
            new,
        );
    }
    let request = CreateApproval {
        user: username.clone(),
        kind: ApprovalKind::Login,
        binding_message: Some("Sign in to Acme Bank".into()),
        context: Some(context(&headers, peer, &sid)),
        expires_in: Some(120),
        ..CreateApproval::default()
    };
    match acme.rp.create_approval(&request).await {
        Ok(created) => {
            let purpose = Purpose::Login {
                user: username,
                code: created.display_code,
            };
            acme.update(&sid, |s| {
                s.approvals.insert(created.id.clone(), purpose);
            });
            with_cookie(
                Redirect::to(&format!("/wait/{}", created.id)).into_response(),
                &sid,
                new,
            )
        }
        Err(e) => {
            let message = if e.problem_code() == Some(assent_proto::ProblemCode::PushSuspended) {
                "Approvals are paused for this account (too many sign-in attempts, or a request was reported as fraud). Try again later.".to_owned()
            } else {
                format!("Assent could not ask for your approval: {e}")
            };
            with_cookie(page("Sign in", &login_form(Some(&message))), &sid, new)
        }
    }
}

async fn logout(State(acme): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(sid) = session_id(&headers) {
        acme.update(&sid, |s| *s = Session::default());
    }
    Redirect::to("/").into_response()
}

async fn transfer_form(State(acme): State<Shared>, headers: HeaderMap) -> Response {
    let (sid, session, new) = acme.session(&headers);
    if session.user.is_none() {
        return with_cookie(Redirect::to("/").into_response(), &sid, new);
    }
    let body = r#"<h1>Send money</h1>
<form method="post" action="/transfer" class="card">
<label for="amount">Amount</label><input id="amount" name="amount" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,2})?" required value="250.00">
<label for="currency">Currency</label><select id="currency" name="currency"><option>EUR</option><option>USD</option><option>GBP</option></select>
<label for="recipient">Recipient</label><input id="recipient" name="recipient" required value="Bob Martin">
<label for="iban">Recipient's IBAN</label><input id="iban" name="iban" required value="FR76 3000 6000 0112 3456 7890 189">
<button type="submit" class="primary">Send</button></form>
<p class="hint">Your authenticator will show exactly this amount, currency and recipient, and ask for your passkey.</p>"#;
    page("Send money", body)
}

#[derive(Deserialize)]
struct TransferForm {
    amount: String,
    currency: String,
    recipient: String,
    iban: String,
}

async fn transfer(
    State(acme): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<TransferForm>,
) -> Response {
    let (sid, session, _) = acme.session(&headers);
    let Some(user) = session.user else {
        return Redirect::to("/").into_response();
    };
    let amount_ok = !form.amount.is_empty()
        && form.amount.len() <= 12
        && form.amount.chars().all(|c| c.is_ascii_digit() || c == '.')
        && form.amount.matches('.').count() <= 1;
    let currency_ok = ["EUR", "USD", "GBP"].contains(&form.currency.as_str());
    if !amount_ok
        || !currency_ok
        || form.recipient.trim().is_empty()
        || form.recipient.len() > 80
        || form.iban.len() > 40
    {
        return page(
            "Send money",
            r#"<p class="problem" role="alert">Check the amount, currency and recipient.</p><a href="/transfer">Back</a>"#,
        );
    }
    let summary = format!(
        "{} {} to {}",
        form.amount,
        form.currency,
        form.recipient.trim()
    );
    let request = CreateApproval {
        user,
        kind: ApprovalKind::Transaction,
        binding_message: Some(format!("Transfer {summary}")),
        authorization_details: vec![serde_json::json!({
            "type": "payment_initiation",
            "amount": form.amount,
            "currency": form.currency,
            "creditor_name": form.recipient.trim(),
            "creditor_account": form.iban.trim(),
        })],
        context: Some(context(&headers, peer, &sid)),
        expires_in: Some(180),
        user_verification: true,
        passkey_authentication: None,
    };
    match acme.rp.create_approval(&request).await {
        Ok(created) => {
            let purpose = Purpose::Transfer {
                summary,
                code: created.display_code,
            };
            acme.update(&sid, |s| {
                s.approvals.insert(created.id.clone(), purpose);
            });
            Redirect::to(&format!("/wait/{}", created.id)).into_response()
        }
        Err(e) => page(
            "Send money",
            &format!(
                r#"<p class="problem" role="alert">{}</p>"#,
                esc(&e.to_string())
            ),
        ),
    }
}

async fn wait_page(
    State(acme): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (_, session, _) = acme.session(&headers);
    let Some(purpose) = session.approvals.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>No such request</h1>"),
        )
            .into_response();
    };
    let (what, code) = match purpose {
        Purpose::Login { user, code } => (format!("Signing in as {}", esc(user)), code),
        Purpose::Transfer { summary, code } => (format!("Transfer {}", esc(summary)), code),
    };
    let code_html = match code {
        Some(code) => format!(
            r#"<p>Open your Assent authenticator and type this code:</p><p class="code" id="code" aria-label="code {spaced}">{code}</p>"#,
            code = esc(code),
            spaced = esc(&code.chars().map(String::from).collect::<Vec<_>>().join(" "))
        ),
        None => "<p>Open your Assent authenticator to answer.</p>".into(),
    };
    let body = format!(
        r#"<h1>{what}</h1><div class="card">{code_html}
<p id="outcome" data-state="pending" data-approval="{id}" role="status" aria-live="polite">Waiting for your answer…</p></div>"#,
        id = esc(&id)
    );
    page("Waiting for approval", &body)
}

/// Waits (long poll on Assent) for the request's outcome, and acts on it.
async fn status(
    State(acme): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (sid, session, _) = acme.session(&headers);
    let Some(purpose) = session.approvals.get(&id).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such request"})),
        )
            .into_response();
    };
    let status = match acme.rp.approval(&id, Some(20)).await {
        Ok(status) => status,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                Json(serde_json::json!({"error": e.to_string()})),
            )
                .into_response();
        }
    };
    if status.state.is_final() {
        let receipt = status.receipt.clone();
        acme.update(&sid, |s| {
            if receipt.is_some() {
                s.last_receipt = receipt;
            }
            if let (ApprovalState::Approved, Purpose::Login { user, .. }) = (status.state, &purpose)
            {
                s.user = Some(user.clone());
            }
        });
    }
    let kind = match purpose {
        Purpose::Login { .. } => "login",
        Purpose::Transfer { .. } => "transfer",
    };
    Json(serde_json::json!({"state": status.state, "reason": status.reason, "kind": kind}))
        .into_response()
}

async fn receipt_page(State(acme): State<Shared>, headers: HeaderMap) -> Response {
    let (_, session, _) = acme.session(&headers);
    let Some(receipt) = session.last_receipt else {
        return page(
            "Receipt",
            r#"<h1>Receipt</h1><p>No approval has ended in this session yet.</p>"#,
        );
    };
    let jwks: Result<JwkSet, _> = assent_client::fetch_jwks(&acme.assent_url).await;
    let verdict = match jwks.as_ref().map(|j| verify_receipt(&receipt, j)) {
        Ok(Ok(v)) => format!(
            r#"<p class="ok" id="verdict" data-valid="true">Valid: signed by Assent key <code>{}</code>, and the embedded decision is signed by the device key it names.</p>"#,
            esc(&v.kid)
        ),
        Ok(Err(e)) => format!(
            r#"<p class="problem" id="verdict" data-valid="false">Invalid: {}</p>"#,
            esc(&e.to_string())
        ),
        Err(e) => format!(
            r#"<p class="problem" id="verdict" data-valid="false">Could not fetch Assent's keys: {}</p>"#,
            esc(&e.to_string())
        ),
    };
    let decode = |jws: &str| -> (String, String) {
        let header = jws
            .split('.')
            .next()
            .and_then(|h| assent_proto::jose::b64_decode(h).ok());
        let pretty = |bytes: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default()
        };
        let payload = Parsed::parse(jws)
            .map(|p| pretty(p.unverified_payload()))
            .unwrap_or_default();
        (header.map(|h| pretty(&h)).unwrap_or_default(), payload)
    };
    let (header, payload) = decode(&receipt);
    let statement = serde_json::from_str::<serde_json::Value>(&payload)
        .ok()
        .and_then(|v| {
            v.get("statement")
                .and_then(|s| s.as_str())
                .map(str::to_owned)
        });
    let statement_html = statement
        .map(|s| {
            let (h, p) = decode(&s);
            format!(
                "<h2>The device's signed statement</h2><pre>{}</pre><pre id=\"statement\">{}</pre>",
                esc(&h),
                esc(&p)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Receipt of the last approval</h1>{verdict}<h2>Receipt header</h2><pre>{}</pre><h2>Receipt</h2><pre id="receipt">{}</pre>{statement_html}
<h2>As sent (compact JWS)</h2><pre class="jws">{}</pre>"#,
        esc(&header),
        esc(&payload),
        esc(&receipt)
    );
    page("Receipt", &body)
}
