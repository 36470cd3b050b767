"""An APNs-shaped endpoint for Assent's APNs sender tests: HTTP/2 over TLS (hypercorn), a
certificate from a throwaway trustme CA, and Apple's checks of each push made with PyJWT.

Usage: apns_endpoint.py --ca-out CA.pem --key KEY.p8 --team TEAM --key-id KID --topic TOPIC
           --log REQUESTS.jsonl [--bad TOKEN,...] [--gone TOKEN,...] [--throttle-prefix PREFIX]
           [--expire-once TOKEN,...]

Prints the port when it listens. Every POST /3/device/<token> is checked (the provider token's
signature, `kid` and `iss`; the headers; HTTP/2) and recorded as one JSON line with what it
carried and any problems found; a push with problems is refused as APNs would refuse it.
Answers: 200 with `apns-id`; for --bad tokens 400 BadDeviceToken; for --gone tokens 410
Unregistered; a token starting with --throttle-prefix gets one 429 (Retry-After: 7), then 200;
a token in --expire-once gets one 403 ExpiredProviderToken, then 200.
"""

import argparse
import asyncio
import json
import os
import socket
import time
import uuid

import jwt
import trustme
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from hypercorn.asyncio import serve
from hypercorn.config import Config


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--ca-out", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--team", required=True)
    p.add_argument("--key-id", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--bad", default="")
    p.add_argument("--gone", default="")
    p.add_argument("--throttle-prefix", default=None)
    p.add_argument("--expire-once", default="")
    return p.parse_args()


ARGS = parse_args()
with open(ARGS.key, "rb") as f:
    PUBLIC_KEY = load_pem_private_key(f.read(), password=None).public_key()
BAD = set(filter(None, ARGS.bad.split(",")))
GONE = set(filter(None, ARGS.gone.split(",")))
EXPIRE_ONCE = set(filter(None, ARGS.expire_once.split(",")))
THROTTLED = set()


def check_provider_token(headers, problems):
    """Apple's check: `bearer <jwt>`, ES256 by the team's key, `kid` and `iss` as registered."""
    auth = headers.get("authorization", "")
    if not auth.startswith("bearer "):
        problems.append("MissingProviderToken")
        return None
    token = auth[len("bearer "):]
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, PUBLIC_KEY, algorithms=["ES256"],
                            options={"require": ["iss", "iat"]})
    except jwt.PyJWTError as e:
        problems.append(f"InvalidProviderToken: {e}")
        return token
    if header.get("kid") != ARGS.key_id:
        problems.append(f"InvalidProviderToken: kid {header.get('kid')!r}")
    if claims.get("iss") != ARGS.team:
        problems.append(f"InvalidProviderToken: iss {claims.get('iss')!r}")
    if abs(time.time() - claims["iat"]) > 3600:
        problems.append("ExpiredProviderToken")
    return token


def check_headers(scope, headers, problems):
    if scope.get("http_version") != "2":
        problems.append(f"NotHttp2: HTTP/{scope.get('http_version')}")
    if headers.get("apns-topic") != ARGS.topic:
        problems.append("BadTopic")
    if headers.get("apns-push-type") != "alert":
        problems.append("InvalidPushType")
    if headers.get("apns-priority") not in ("10", "5"):
        problems.append("BadPriority")
    if not headers.get("apns-expiration", "").isdigit():
        problems.append("BadExpirationDate")
    collapse = headers.get("apns-collapse-id")
    if collapse is not None and len(collapse.encode()) > 64:
        problems.append("BadCollapseId")


def check_body(raw, problems):
    try:
        body = json.loads(raw)
    except ValueError:
        problems.append("PayloadEmpty")
        return None
    alert = body.get("aps", {}).get("alert", {})
    if not isinstance(alert.get("title"), str) or not isinstance(alert.get("body"), str):
        problems.append("BadAlert")
    if len(raw) > 4096:
        problems.append("PayloadTooLarge")
    return body


def answer_for(device, problems):
    """(status, reason or None, extra headers) for one checked push."""
    if problems:
        first = problems[0].split(":")[0]
        return (403 if "ProviderToken" in first else 400), first, []
    if device in EXPIRE_ONCE:
        EXPIRE_ONCE.discard(device)
        return 403, "ExpiredProviderToken", []
    if device in BAD:
        return 400, "BadDeviceToken", []
    if device in GONE:
        return 410, "Unregistered", []
    if ARGS.throttle_prefix and device.startswith(ARGS.throttle_prefix) and device not in THROTTLED:
        THROTTLED.add(device)
        return 429, "TooManyRequests", [(b"retry-after", b"7")]
    return 200, None, []


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    raw = await read_body(receive)
    path = scope["path"]
    if scope["method"] != "POST" or not path.startswith("/3/device/"):
        await respond(send, 404, "BadPath", [])
        return
    device = path[len("/3/device/"):]
    problems = []
    token = check_provider_token(headers, problems)
    check_headers(scope, headers, problems)
    body = check_body(raw, problems)
    status, reason, extra = answer_for(device, problems)
    record = {
        "device": device,
        "http_version": scope.get("http_version"),
        "jwt": token,
        "headers": {k: v for k, v in headers.items() if k.startswith("apns-")},
        "body": body,
        "problems": problems,
        "status": status,
    }
    with open(ARGS.log, "a") as f:
        f.write(json.dumps(record) + "\n")
    await respond(send, status, reason, extra)


async def respond(send, status, reason, extra):
    headers = [(b"apns-id", str(uuid.uuid4()).encode())] + extra
    body = b""
    if reason is not None:
        answer = {"reason": reason}
        if status == 410:
            answer["timestamp"] = int(time.time() * 1000)
        body = json.dumps(answer).encode()
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main():
    ca = trustme.CA()
    ca.cert_pem.write_to_path(ARGS.ca_out)
    cert = ca.issue_cert("localhost", "127.0.0.1")
    # The server's own certificate and key go next to the CA, in the test's folder.
    folder = os.path.dirname(os.path.abspath(ARGS.ca_out))
    cert_path = os.path.join(folder, "endpoint-cert.pem")
    key_path = os.path.join(folder, "endpoint-key.pem")
    cert.cert_chain_pems[0].write_to_path(cert_path)
    cert.private_key_pem.write_to_path(key_path)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    config = Config()
    config.bind = [f"fd://{listener.fileno()}"]
    config.certfile, config.keyfile = cert_path, key_path
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    print(listener.getsockname()[1], flush=True)
    asyncio.run(serve(app, config))


if __name__ == "__main__":
    main()
