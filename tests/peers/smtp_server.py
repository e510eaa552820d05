#!/usr/bin/python3
"""smtp_server.py - Debian's aiosmtpd as herald's SMTP peer in tests.

    smtp_server.py --port P --log FILE [--tls CERT KEY] [--user U --password PW]

With --tls the server offers STARTTLS and requires it before MAIL; with
--user it requires AUTH (PLAIN/LOGIN).  Each accepted message is logged to
FILE as one JSON line (mail_from, rcpt, data).  Recipients steer replies:
refused@… gets 550 at RCPT, flaky@… gets 451 the first time, then 250.
"""
import argparse
import json
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

lock = threading.Lock()
seen = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls", nargs=2)
    ap.add_argument("--user")
    ap.add_argument("--password")
    a = ap.parse_args()
    log = open(a.log, "a", buffering=1)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            local = address.split("@")[0]
            with lock:
                n = seen.get(address, 0)
                seen[address] = n + 1
            with lock:
                log.write(json.dumps({"event": "rcpt", "rcpt": address, "t": time.time()}) + "\n")
            if local == "refused":
                return "550 5.1.1 no such user"
            if local == "flaky" and n == 0:
                return "451 4.3.0 try again later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            rec = {"event": "message", "mail_from": envelope.mail_from,
                   "rcpt": envelope.rcpt_tos, "tls": session.ssl is not None,
                   "auth": bool(session.authenticated),
                   "data": envelope.content.decode("utf-8", "replace"), "t": time.time()}
            with lock:
                log.write(json.dumps(rec) + "\n")
            return "250 Message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login.decode() == a.user and auth_data.password.decode() == a.password)
        return AuthResult(success=ok)

    kw = {}
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        kw.update(tls_context=ctx, require_starttls=True)
    if a.user:
        kw.update(authenticator=authenticator, auth_required=True,
                  auth_require_tls=bool(a.tls))
    c = Controller(Handler(), hostname="127.0.0.1", port=a.port, **kw)
    c.start()
    print("listening", flush=True)
    try:
        threading.Event().wait()
    finally:
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
