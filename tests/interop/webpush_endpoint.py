"""A Web Push endpoint (RFC 8030) for the interop tests, built on independent implementations:
`http_ece` decrypts each message with the subscription's private key (RFC 8291 aes128gcm) and
PyJWT checks the VAPID token (RFC 8292) against the key in its `k=` parameter.

Usage: webpush_endpoint.py STATE_DIR [--vapid-key B64URL] [--allow-nothing-else]

On start it creates one subscription key pair per path (/sub/<name>, made on first use of the
name by GET /new/<name>, which returns {"endpoint", "p256dh", "auth"}), prints its port, then
serves POST /sub/<name>. Behaviour per name, set with POST /mode/<name> and a JSON body:
  {"answer": 201}                    accept (the default)
  {"answer": 429, "times": 1, "retry_after": 2}   refuse that many times first, then accept
  {"answer": 410}                    the subscription is gone
  {"hold_ms": 3000}                  wait before answering
Every request is appended to STATE_DIR/received.jsonl as one JSON object: the name, the
status answered, the headers that matter, the decrypted plaintext (or the reason it did not
decrypt) and the checked VAPID claims (or why the token was refused). A request whose VAPID
token does not verify, or whose headers are wrong, is answered 400 and recorded as such.
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class State:
    def __init__(self, directory: str, port_holder: list):
        self.directory = directory
        self.port_holder = port_holder
        self.lock = threading.Lock()
        self.subs = {}  # name -> (private key, auth secret)
        self.modes = {}  # name -> dict

    def subscription(self, name: str):
        with self.lock:
            if name not in self.subs:
                key = ec.generate_private_key(ec.SECP256R1())
                self.subs[name] = (key, os.urandom(16))
            return self.subs[name]

    def record(self, entry: dict) -> None:
        with self.lock:
            with open(os.path.join(self.directory, "received.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")


def verify_vapid(header: str, origin: str) -> dict:
    """The VAPID claims, or an exception saying why the token is refused."""
    if not header.startswith("vapid "):
        raise ValueError("Authorization is not the vapid scheme")
    params = {}
    for part in header[len("vapid "):].split(","):
        k, _, v = part.strip().partition("=")
        params[k] = v
    point = unb64url(params["k"])
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(params["t"], pem, algorithms=["ES256"], audience=origin,
                        options={"require": ["exp", "aud", "sub"]})
    if claims["exp"] > time.time() + 24 * 3600:
        raise ValueError("exp is more than 24 hours away")
    if not (claims["sub"].startswith("mailto:") or claims["sub"].startswith("https:")):
        raise ValueError("sub is not a mailto: or https: URL")
    claims["k"] = params["k"]
    return claims


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status: int, body: bytes = b"", headers: dict = None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.startswith("/new/"):
                name = self.path[len("/new/"):]
                key, auth = state.subscription(name)
                point = key.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint)
                port = state.port_holder[0]
                body = json.dumps({"endpoint": f"http://127.0.0.1:{port}/sub/{name}",
                                   "p256dh": b64url(point), "auth": b64url(auth)}).encode()
                return self.reply(200, body, {"Content-Type": "application/json"})
            self.reply(404)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path.startswith("/mode/"):
                state.modes[self.path[len("/mode/"):]] = json.loads(body)
                return self.reply(204)
            if not self.path.startswith("/sub/"):
                return self.reply(404)
            name = self.path[len("/sub/"):]
            key, auth = state.subscription(name)
            mode = state.modes.get(name, {})
            entry = {"name": name, "headers": {h: self.headers.get(h) for h in
                     ("TTL", "Urgency", "Topic", "Content-Encoding", "Content-Type")}}
            problems = []
            try:
                entry["vapid"] = verify_vapid(self.headers.get("Authorization", ""),
                                              f"http://127.0.0.1:{state.port_holder[0]}")
            except Exception as e:  # PyJWT raises its own exception types
                problems.append(f"vapid: {type(e).__name__}: {e}")
            try:
                plaintext = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
                entry["plaintext"] = plaintext.decode()
            except Exception as e:
                problems.append(f"decrypt: {type(e).__name__}: {e}")
            if self.headers.get("Content-Encoding") != "aes128gcm":
                problems.append("Content-Encoding is not aes128gcm")
            if not (self.headers.get("TTL") or "").isdigit():
                problems.append("TTL is missing")
            if mode.get("hold_ms"):
                time.sleep(mode["hold_ms"] / 1000)
            status, extra = 201, {}
            if problems:
                status = 400
            elif mode.get("answer") in (404, 410):
                status = mode["answer"]
            elif mode.get("answer") == 429 and mode.get("times", 0) > 0:
                mode["times"] -= 1
                status = 429
                extra["Retry-After"] = str(mode.get("retry_after", 1))
            entry["status"] = status
            entry["problems"] = problems
            entry["at"] = time.time()
            state.record(entry)
            self.reply(status, b"", extra)

    return Handler


def main() -> int:
    directory = sys.argv[1]
    port_holder = [0]
    state = State(directory, port_holder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    port_holder[0] = server.server_address[1]
    print(port_holder[0], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
