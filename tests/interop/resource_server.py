"""A payment API that trusts Assent's access tokens, built on PyJWT and cryptography (which
Assent shares no code with): the resource server an agent's grant is meant for.

Usage: resource_server.py ISSUER CLIENT_ID CLIENT_SECRET

It prints {"port": N} on its first line, then serves POST /payments with a JSON body
{"type": "payment_initiation", "amount", "currency", "creditor", "iban"}, the access token as
`Authorization: DPoP <token>` and a DPoP proof (RFC 9449) in the `DPoP` header. It pays (200,
{"paid": true, "approval_id"}) only when every check holds, each closing one way to misuse a
token:
  - the token is an ES256 JWT signed by a key of ISSUER's JWKS (fetched with PyJWKClient), with
    typ at+jwt (RFC 9068: an ID token is not an access token), iss ISSUER, aud ISSUER (Assent's
    default audience), an exp in the future, and cnf.jkt (it is bound to a key);
  - the DPoP proof is a dpop+jwt signed by the public key in its own header (no private
    member), whose RFC 7638 thumbprint equals cnf.jkt (the caller holds the key the token is
    bound to), htm POST and htu this URL (made for this request), iat within 60 s (fresh), ath
    the SHA-256 of the token (made for this token), and a jti not seen before (no replay);
  - the payment asked for equals one of the token's approved authorization_details (what the
    owner approved, not more);
  - ISSUER's introspection endpoint (RFC 7662, authenticated as CLIENT_ID) says the token is
    active: a revoked token is refused although its signature and exp are still good.
Any failure answers 401 (403 for a payment that was not approved) with
{"error": "invalid_token" | "invalid_dpop_proof" | "insufficient_authorization", "reason"}
and a WWW-Authenticate: DPoP challenge.
"""

import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

MAX_BODY = 16 * 1024
PROOF_MAX_AGE = 60


class Refused(Exception):
    def __init__(self, status: int, error: str, reason: str):
        super().__init__(reason)
        self.status, self.error, self.reason = status, error, reason


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 of the required members of an EC key, in lexical order, no spaces."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64u(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


class Api:
    def __init__(self, issuer: str, client_id: str, client_secret: str):
        self.issuer = issuer
        self.keys = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True)
        credentials = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}"
        self.basic = "Basic " + base64.b64encode(credentials.encode()).decode()
        self.seen_jti = set()

    def access_token(self, token: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
            if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
                raise Refused(401, "invalid_token", f"typ is {header.get('typ')!r}, not at+jwt")
            key = self.keys.get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token, key, algorithms=["ES256"], audience=self.issuer, issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Refused(401, "invalid_token", "the token has expired")
        except jwt.PyJWTError as e:
            raise Refused(401, "invalid_token", f"the token does not verify: {e}")
        jkt = (claims.get("cnf") or {}).get("jkt")
        if not isinstance(jkt, str):
            raise Refused(401, "invalid_token", "the token is not bound to a key (no cnf.jkt)")
        return claims

    def proof(self, proof: str, token: str, url: str, jkt: str) -> None:
        try:
            header = jwt.get_unverified_header(proof)
            if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
                raise Refused(401, "invalid_dpop_proof", "the proof is not an ES256 dpop+jwt")
            jwk = header.get("jwk")
            if not isinstance(jwk, dict) or "d" in jwk or jwk.get("kty") != "EC":
                raise Refused(401, "invalid_dpop_proof", "the proof's jwk is not a public EC key")
            key = jwt.PyJWK(jwk, algorithm="ES256").key
            claims = jwt.decode(proof, key, algorithms=["ES256"], options={"verify_aud": False, "require": ["iat", "jti", "htm", "htu", "ath"]})
        except jwt.PyJWTError as e:
            raise Refused(401, "invalid_dpop_proof", f"the proof does not verify: {e}")
        if not hmac.compare_digest(thumbprint(jwk), jkt):
            raise Refused(401, "invalid_dpop_proof", "the proof's key is not the one the token is bound to")
        if claims["htm"] != "POST" or claims["htu"] != url:
            raise Refused(401, "invalid_dpop_proof", "the proof was made for another request")
        if abs(time.time() - claims["iat"]) > PROOF_MAX_AGE:
            raise Refused(401, "invalid_dpop_proof", "the proof is not fresh")
        if not hmac.compare_digest(str(claims["ath"]), b64u(hashlib.sha256(token.encode()).digest())):
            raise Refused(401, "invalid_dpop_proof", "the proof was made for another token (ath)")
        if claims["jti"] in self.seen_jti:
            raise Refused(401, "invalid_dpop_proof", "the proof was used before (jti)")
        self.seen_jti.add(claims["jti"])

    def introspect(self, token: str) -> dict:
        body = urllib.parse.urlencode({"token": token}).encode()
        request = urllib.request.Request(
            f"{self.issuer}/oauth2/introspect", data=body, method="POST",
            headers={"Authorization": self.basic, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except (urllib.error.URLError, ValueError) as e:
            # Fail closed: a token whose state cannot be learned is not accepted.
            raise Refused(401, "invalid_token", f"introspection failed: {e}")

    def pay(self, headers, payment: dict, url: str) -> dict:
        authorization = headers.get("Authorization") or ""
        if not authorization.startswith("DPoP "):
            raise Refused(401, "invalid_token", "the token must be presented as Authorization: DPoP")
        token = authorization[len("DPoP "):].strip()
        claims = self.access_token(token)
        proofs = headers.get_all("DPoP") or []
        if len(proofs) != 1:
            raise Refused(401, "invalid_dpop_proof", "exactly one DPoP proof is required")
        self.proof(proofs[0], token, url, claims["cnf"]["jkt"])
        approved = claims.get("authorization_details") or []
        if payment not in approved:
            raise Refused(403, "insufficient_authorization", "this payment is not the one the owner approved")
        state = self.introspect(token)
        if state.get("active") is not True:
            raise Refused(401, "invalid_token", "the token is not active (introspection)")
        if state.get("jti") not in (None, claims["jti"]):
            raise Refused(401, "invalid_token", "introspection describes another token")
        return {"paid": True, "approval_id": claims.get("approval_id"), "sub": claims["sub"]}


def handler(api: Api, port_box: list):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status: int, body: dict, challenge: str = ""):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if challenge:
                self.send_header("WWW-Authenticate", challenge)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if self.path != "/payments":
                return self.answer(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self.answer(413, {"error": "too_large"})
            try:
                payment = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(payment, dict):
                    return self.answer(400, {"error": "invalid_request", "reason": "the body is a JSON object"})
                url = f"http://127.0.0.1:{port_box[0]}/payments"
                return self.answer(200, api.pay(self.headers, payment, url))
            except Refused as e:
                challenge = f'DPoP error="{e.error}", algs="ES256"' if e.status == 401 else ""
                return self.answer(e.status, {"error": e.error, "reason": e.reason}, challenge)
            except json.JSONDecodeError:
                return self.answer(400, {"error": "invalid_request", "reason": "the body is not JSON"})

    return Handler


def main() -> int:
    issuer, client_id, client_secret = sys.argv[1:4]
    api = Api(issuer.rstrip("/"), client_id, client_secret)
    port_box = [0]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(api, port_box))
    port_box[0] = server.server_address[1]
    print(json.dumps({"port": port_box[0]}), flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
