"""Calls Assent's Duo Auth API v2 with Duo's own Python client (duo_client), for the tests.

Usage: duo_client_driver.py SCENARIO HOST PORT CA_FILE IKEY SKEY SIG_VERSION DIGEST [ARGS_JSON]

SCENARIO is one method of duo_client.Auth (ping, check, logo, preauth, auth, auth_status,
enroll, enroll_status), called with the keyword arguments in ARGS_JSON. CA_FILE is the PEM of
the CA that signed the server's certificate ("HTTP" for plain HTTP, as duo_client spells it).
SIG_VERSION is 2 or 5, DIGEST sha512 or sha1.

Prints one JSON line: {"ok": RESPONSE} with the response duo_client returned, or
{"error": TEXT, "status": N, "body": BODY} with the RuntimeError duo_client raised (its text is
"Received 401 ... (message_detail)"). Deciding a push is left to the caller, which runs this
script as a child and answers from the device while a synchronous call waits.
"""

import hashlib
import json
import sys

import duo_client

SCENARIOS = (
    "ping",
    "check",
    "logo",
    "preauth",
    "auth",
    "auth_status",
    "enroll",
    "enroll_status",
)
DIGESTS = {"sha512": hashlib.sha512, "sha1": hashlib.sha1}


def main(argv):
    if len(argv) not in (8, 9) or argv[0] not in SCENARIOS or argv[7] not in DIGESTS:
        print(__doc__, file=sys.stderr)
        return 2
    scenario, host, port, ca_file, ikey, skey, sig_version, digest = argv[:8]
    kwargs = json.loads(argv[8]) if len(argv) == 9 else {}
    client = duo_client.Auth(
        ikey,
        skey,
        host,
        port=int(port),
        ca_certs=ca_file,
        sig_version=int(sig_version),
        digestmod=DIGESTS[digest],
        timeout=90,
    )
    try:
        response = getattr(client, scenario)(**kwargs)
    except RuntimeError as e:
        body = getattr(e, "data", None)
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        out = {"error": str(e), "status": getattr(e, "status", None), "body": body}
    else:
        out = {"ok": response}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
