"""An SMTP relay for the mailer's tests, on aiosmtpd: listens on 127.0.0.1 on a free port,
prints the port once it accepts connections, and appends one JSON line per received message to
the given file: the envelope, the raw data, the message as Python's own e-mail parser reads it
(headers decoded, body decoded), whether the session was TLS, and the AUTH login if any.

    smtp_server.py OUT.jsonl [--starttls CA.pem | --implicit CA.pem] [--auth USER:PASS]
                             [--reject RCPT]...

--starttls  offers STARTTLS with a certificate of a throwaway `trustme` CA (for localhost and
            127.0.0.1) and refuses MAIL before it; the CA is written to CA.pem.
--implicit  TLS from the first byte with such a certificate.
--auth      requires AUTH (PLAIN or LOGIN) with these credentials, offered only over TLS.
--reject    answers 550 to RCPT for this address.
"""

import argparse
import asyncio
import email
import email.policy
import json
import ssl
import sys

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, out, reject, implicit_tls):
        self.out = out
        self.reject = {r.lower() for r in reject}
        self.implicit_tls = implicit_tls

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "data": raw.decode("utf-8", errors="replace"),
            "headers": {name: str(value) for name, value in parsed.items()},
            "content_type": parsed.get_content_type(),
            "charset": parsed.get_content_charset(),
            "body": parsed.get_content() if not parsed.is_multipart() else None,
            "tls": self.implicit_tls or session.ssl is not None,
            "auth_login": session.auth_data,
            "ehlo": session.host_name,
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 2.0.0 Message accepted for delivery"


def authenticator(expected_user, expected_password):
    def check(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8")
        password = auth_data.password.decode("utf-8")
        if user == expected_user and password == expected_password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    return check


def tls_context(ca_path):
    ca = trustme.CA()
    ca.cert_pem.write_to_path(ca_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--starttls", metavar="CA_PEM")
    tls.add_argument("--implicit", metavar="CA_PEM")
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()

    kwargs = {"hostname": "relay.test"}
    implicit = None
    if args.starttls:
        kwargs["tls_context"] = tls_context(args.starttls)
        kwargs["require_starttls"] = True
    elif args.implicit:
        implicit = tls_context(args.implicit)
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs["authenticator"] = authenticator(user, password)
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = True

    handler = Recorder(args.out, args.reject, implicit is not None)

    def factory():
        smtp = SMTP(handler, **kwargs)
        if implicit is not None:
            # The session learns of TLS from the transport only after STARTTLS; over implicit
            # TLS the whole session is encrypted, and AUTH is allowed as it is.
            smtp._auth_require_tls = False
        return smtp

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=implicit)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
