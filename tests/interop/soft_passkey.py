"""A software passkey (WebAuthn authenticator plus client) built on python-fido2, an
implementation Assent does not share code with, for driving Assent's WebAuthn endpoints.

Usage:
  soft_passkey.py register OPTIONS_FILE ORIGIN KEY_FILE OUT_FILE
  soft_passkey.py authenticate OPTIONS_FILE ORIGIN KEY_FILE OUT_FILE [--sign-count N] [--rp-id RPID]

register reads the creation options (webauthn-rs's CreationChallengeResponse JSON), makes a new
P-256 (ES256) credential, writes it to KEY_FILE (mode 0600) and writes the attestation ("none"
format) as RegisterPublicKeyCredential JSON to OUT_FILE.

authenticate reads the request options (webauthn-rs's RequestChallengeResponse JSON), signs an
assertion with the credential in KEY_FILE and writes it as PublicKeyCredential JSON to OUT_FILE.
The sign count is the stored one plus one, saved back to KEY_FILE; --sign-count N uses N
instead and saves nothing (to test a lowered counter); --rp-id hashes RPID into the
authenticator data instead of the options' rpId (to test a mismatch).

Binary fields are base64url without padding on output; input accepts them with or without.
Exits 0 when the output is written; prints a one-line reason and exits 1 otherwise.
"""

import argparse
import json
import os
import secrets
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import sha256, websafe_decode, websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

FLAG = AuthenticatorData.FLAG


class Refused(Exception):
    """The input cannot be answered; the message is the one-line reason."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Refused(message)


def b64d(value) -> bytes:
    if not isinstance(value, str):
        raise Refused(f"expected a base64url string, got {value!r}")
    return websafe_decode(value.rstrip("="))


def load_options(path: str) -> dict:
    options = json.load(open(path, encoding="utf-8"))
    public_key = options.get("publicKey") if isinstance(options, dict) else None
    if not isinstance(public_key, dict):
        raise Refused("options have no publicKey object")
    return public_key


def write_private(path: str, data: dict) -> None:
    """Writes JSON readable by the owner only, replacing the file atomically."""
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def write_json(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)


def register(options_path: str, origin: str, key_path: str, out_path: str) -> None:
    options = load_options(options_path)
    rp_id = options["rp"]["id"]
    user_handle = b64d(options["user"]["id"])
    challenge = b64d(options["challenge"])
    if not any(p.get("type") == "public-key" and p.get("alg") == ES256.ALGORITHM
               for p in options.get("pubKeyCredParams", [])):
        raise Refused("ES256 (-7) is not among pubKeyCredParams")

    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = secrets.token_bytes(16 + secrets.randbelow(17))
    client_data = CollectedClientData.create(
        type=CollectedClientData.TYPE.CREATE, challenge=challenge, origin=origin,
        cross_origin=False)
    credential = AttestedCredentialData.create(
        Aaguid.NONE, credential_id, ES256.from_cryptography_key(key.public_key()))
    auth_data = AuthenticatorData.create(
        sha256(rp_id.encode()), FLAG.UP | FLAG.UV | FLAG.AT, 0, credential)
    attestation = AttestationObject.create("none", auth_data, {})

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_private(key_path, {
        "private_key": pem.decode("ascii"),
        "credential_id": websafe_encode(credential_id),
        "rp_id": rp_id,
        "user_handle": websafe_encode(user_handle),
        "sign_count": 0,
    })
    write_json(out_path, {
        "id": websafe_encode(credential_id),
        "rawId": websafe_encode(credential_id),
        "type": "public-key",
        "response": {
            "attestationObject": websafe_encode(attestation),
            "clientDataJSON": client_data.b64,
            "transports": ["internal"],
        },
        "extensions": {},
    })


def authenticate(options_path: str, origin: str, key_path: str, out_path: str,
                 sign_count: int | None, rp_id: str | None) -> None:
    options = load_options(options_path)
    stored = json.load(open(key_path, encoding="utf-8"))
    credential_id = b64d(stored["credential_id"])
    allowed = [b64d(c["id"]) for c in options.get("allowCredentials") or []
               if c.get("type", "public-key") == "public-key"]
    if options.get("allowCredentials") and credential_id not in allowed:
        raise Refused("the key's credential id is not in allowCredentials")
    rp_id = rp_id or options.get("rpId") or stored["rp_id"]
    challenge = b64d(options["challenge"])

    counter = stored["sign_count"] + 1 if sign_count is None else sign_count
    if not 0 <= counter <= 0xFFFFFFFF:
        raise Refused(f"sign count {counter} does not fit in 32 bits")
    key = serialization.load_pem_private_key(stored["private_key"].encode("ascii"), None)
    client_data = CollectedClientData.create(
        type=CollectedClientData.TYPE.GET, challenge=challenge, origin=origin,
        cross_origin=False)
    auth_data = AuthenticatorData.create(sha256(rp_id.encode()), FLAG.UP | FLAG.UV, counter)
    signature = key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))

    write_json(out_path, {
        "id": websafe_encode(credential_id),
        "rawId": websafe_encode(credential_id),
        "type": "public-key",
        "response": {
            "authenticatorData": websafe_encode(auth_data),
            "clientDataJSON": client_data.b64,
            "signature": websafe_encode(signature),
            "userHandle": stored["user_handle"],
        },
        "extensions": {},
    })
    if sign_count is None:
        stored["sign_count"] = counter
        write_private(key_path, stored)


def main() -> int:
    parser = _Parser(prog="soft_passkey.py")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("register", "authenticate"):
        command = commands.add_parser(name)
        for arg in ("options_file", "origin", "key_file", "out_file"):
            command.add_argument(arg)
        if name == "authenticate":
            command.add_argument("--sign-count", type=int)
            command.add_argument("--rp-id")
    try:
        args = parser.parse_args()
        if args.command == "register":
            register(args.options_file, args.origin, args.key_file, args.out_file)
        else:
            authenticate(args.options_file, args.origin, args.key_file, args.out_file,
                         args.sign_count, args.rp_id)
    except Refused as e:
        print(e)
        return 1
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        print(f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
