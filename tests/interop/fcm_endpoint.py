"""An FCM-shaped endpoint for Assent's FCM sender tests: Google's OAuth token endpoint and the
HTTP v1 `messages:send`, over plain HTTP, with Google's checks made by PyJWT.

Usage: fcm_endpoint.py --key SERVICE_ACCOUNT_KEY.pem --client-email EMAIL --key-id KID
           --project PROJECT --log REQUESTS.jsonl [--unregistered TOKEN,...] [--revoke TOKEN,...]

Prints the port when it listens; its token URI is http://127.0.0.1:<port>/token. The token
endpoint checks the RS256 assertion (signature with the key's public half, `kid`, iss, aud = its
own URI, scope, exp - iat <= 3600) and issues a random access token. `messages:send` checks the
bearer token is one it issued and the body's shape; registration tokens in --unregistered get
404 UNREGISTERED; a token in --revoke makes it forget every access token it issued and answer
401 once. Every request is recorded as one JSON line with any problems found.
"""

import argparse
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--client-email", required=True)
    p.add_argument("--key-id", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--unregistered", default="")
    p.add_argument("--revoke", default="")
    return p.parse_args()


ARGS = parse_args()
with open(ARGS.key, "rb") as f:
    PUBLIC_KEY = load_pem_private_key(f.read(), password=None).public_key()
UNREGISTERED = set(filter(None, ARGS.unregistered.split(",")))
REVOKE = set(filter(None, ARGS.revoke.split(",")))
ISSUED = set()
LOCK = threading.Lock()


def record(entry):
    with LOCK, open(ARGS.log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def error_body(code, status, error_code=None):
    error = {"code": code, "message": status.lower(), "status": status}
    if error_code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": error_code}]
    return {"error": error}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/token":
            self.token(raw)
        elif self.path == f"/v1/projects/{ARGS.project}/messages:send":
            self.send_message(raw)
        else:
            record({"kind": "unknown", "path": self.path})
            self.answer(404, error_body(404, "NOT_FOUND"))

    def token(self, raw):
        problems = []
        if self.headers.get("content-type") != "application/x-www-form-urlencoded":
            problems.append("content-type")
        form = parse_qs(raw.decode())
        if form.get("grant_type") != [GRANT]:
            problems.append(f"grant_type {form.get('grant_type')}")
        assertion = (form.get("assertion") or [""])[0]
        own_uri = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, PUBLIC_KEY, algorithms=["RS256"], audience=own_uri,
                                issuer=ARGS.client_email,
                                options={"require": ["iss", "aud", "iat", "exp", "scope"]})
            if header.get("kid") != ARGS.key_id or header.get("typ") != "JWT":
                problems.append(f"header {header}")
            if claims["scope"] != SCOPE:
                problems.append(f"scope {claims['scope']}")
            if claims["exp"] - claims["iat"] > 3600 or abs(time.time() - claims["iat"]) > 300:
                problems.append("lifetime")
        except jwt.PyJWTError as e:
            problems.append(f"assertion: {e}")
        access_token = None
        if not problems:
            access_token = "ya29." + secrets.token_urlsafe(24)
            with LOCK:
                ISSUED.add(access_token)
        record({"kind": "token", "problems": problems, "access_token": access_token})
        if problems:
            self.answer(400, {"error": "invalid_grant", "error_description": "; ".join(problems)})
        else:
            self.answer(200, {"access_token": access_token, "expires_in": 3599,
                              "token_type": "Bearer"})

    def send_message(self, raw):
        auth = self.headers.get("authorization", "")
        bearer = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        problems = check_message(body)
        device = (body or {}).get("message", {}).get("token")
        with LOCK:
            authorized = bearer in ISSUED
            revoke = authorized and device in REVOKE
            if revoke:
                REVOKE.discard(device)
                ISSUED.clear()
        if not authorized or revoke:
            status, answer = 401, error_body(401, "UNAUTHENTICATED")
        elif problems:
            status, answer = 400, error_body(400, "INVALID_ARGUMENT")
        elif device in UNREGISTERED:
            status, answer = 404, error_body(404, "NOT_FOUND", "UNREGISTERED")
        else:
            status, answer = 200, {"name": f"projects/{ARGS.project}/messages/{secrets.token_hex(8)}"}
        record({"kind": "send", "bearer": bearer, "body": body, "problems": problems,
                "status": status})
        self.answer(status, answer)


def check_message(body):
    """The shape FCM requires: a token, data values that are all strings, Android options."""
    problems = []
    message = (body or {}).get("message")
    if not isinstance(message, dict):
        return ["no message"]
    if not isinstance(message.get("token"), str) or not message["token"]:
        problems.append("message.token")
    data = message.get("data")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        problems.append("message.data values must be strings")
    android = message.get("android", {})
    if android.get("priority") not in ("high", "normal"):
        problems.append("android.priority")
    if not re.fullmatch(r"\d+s", str(android.get("ttl", ""))):
        problems.append("android.ttl")
    if set(message) - {"token", "data", "android"}:
        problems.append(f"unexpected fields {sorted(set(message) - {'token', 'data', 'android'})}")
    return problems


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
