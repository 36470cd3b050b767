"""Verifies an Assent access grant with PyJWT, an implementation Assent does not share code with.

Usage: verify_grant.py GRANT_FILE JWKS_FILE AUDIENCE ISSUER
Checks the grant's header (ES256, typ assent-grant+jwt, a kid in the JWKS), its signature, its
audience (the application's id), issuer, nbf and exp; then each approver's receipt: the server's
signature, the state `approved`, the approval id the grant names, and the device's signature
over the decision statement the receipt embeds. Prints the claims as JSON and exits 0 when
everything verifies; prints why and exits 1 otherwise.
"""

import json
import sys

import jwt


def server_key(jwks, token):
    header = jwt.get_unverified_header(token)
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if header.get("alg") != "ES256" or not keys:
        raise ValueError(f"unexpected header {header}")
    return header, jwt.PyJWK(keys[0]).key


def main() -> int:
    grant = open(sys.argv[1], encoding="utf-8").read().strip()
    jwks = json.load(open(sys.argv[2], encoding="utf-8"))
    audience, issuer = sys.argv[3], sys.argv[4]
    try:
        header, key = server_key(jwks, grant)
        if header.get("typ") != "assent-grant+jwt":
            raise ValueError(f"typ {header.get('typ')}")
        claims = jwt.decode(
            grant,
            key,
            algorithms=["ES256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "nbf", "iat", "jti", "sub", "aud", "iss"]},
        )
        for approver in claims["approvers"]:
            _, rkey = server_key(jwks, approver["receipt"])
            receipt = jwt.decode(
                approver["receipt"], rkey, algorithms=["ES256"], options={"verify_aud": False}
            )
            if receipt["state"] != "approved" or receipt["approval_id"] != approver["approval_id"]:
                raise ValueError(f"receipt of {approver['user']} says {receipt['state']}")
            device_key = jwt.PyJWK(receipt["device"]["jwk"]).key
            statement = jwt.decode(
                receipt["statement"], device_key, algorithms=["ES256"], options={"verify_aud": False}
            )
            if statement["request_id"] != receipt["approval_id"] or statement["decision"] != "approve":
                raise ValueError(f"statement of {approver['user']} does not approve")
    except (jwt.PyJWTError, ValueError, KeyError) as e:
        print("grant does not verify:", repr(e))
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
