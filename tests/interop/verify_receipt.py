"""Verifies an Assent receipt with PyJWT, an implementation Assent does not share code with.

Usage: verify_receipt.py RECEIPT_FILE JWKS_FILE
Checks the server's ES256 signature with the JWKS, then the device's ES256 signature over the
embedded decision statement with the device key the receipt names, then that they agree.
Exits 0 and prints the state when everything verifies; exits 1 otherwise.
"""

import json
import sys

import jwt


def main() -> int:
    receipt = open(sys.argv[1], encoding="utf-8").read().strip()
    jwks = json.load(open(sys.argv[2], encoding="utf-8"))
    header = jwt.get_unverified_header(receipt)
    if header.get("alg") != "ES256" or header.get("typ") != "assent-receipt+jws":
        print("unexpected receipt header", header)
        return 1
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if not keys:
        print("no key with the receipt's kid")
        return 1
    server_key = jwt.PyJWK(keys[0]).key
    try:
        body = jwt.decode(receipt, server_key, algorithms=["ES256"], options={"verify_aud": False})
    except jwt.PyJWTError as e:
        print("server signature:", e)
        return 1
    statement = body.get("statement")
    if statement:
        device_key = jwt.PyJWK(body["device"]["jwk"]).key
        try:
            claims = jwt.decode(statement, device_key, algorithms=["ES256"], options={"verify_aud": False})
        except jwt.PyJWTError as e:
            print("device signature:", e)
            return 1
        if claims["request_id"] != body["approval_id"] or claims["details_hash"] != body["details_hash"]:
            print("statement and receipt disagree")
            return 1
    print(body["state"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
