"""A real SMTP server for modelrun's tests (aiosmtpd), on 127.0.0.1.

    python server.py PORT OUTDIR [CERT KEY]

Accepts AUTH LOGIN/PLAIN for user "modelrun" with password "s3cret" (over
plain text too, for the test of a local relay). With CERT and KEY it
offers STARTTLS and requires it. Each message is written to OUTDIR as
NNNN.json: the envelope, whether TLS was on, the login, and the message.
Recipients at refuse@ get a permanent 550, at busy@ a temporary 451.
Prints "ready" once it listens; runs until killed.
"""

import json
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 refuse@: no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 busy@: try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = len([f for f in os.listdir(self.out) if f.endswith(".json")])
            path = os.path.join(self.out, f"{n:04}.json")
            with open(path + ".tmp", "w") as f:
                json.dump(
                    {
                        "mail_from": envelope.mail_from,
                        "rcpt_tos": envelope.rcpt_tos,
                        "tls": session.ssl is not None,
                        "login": login_of(session),
                        "message": envelope.content.decode("utf-8", "replace"),
                    },
                    f,
                )
            os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted"


def login_of(session):
    data = session.auth_data
    return data.login.decode() if isinstance(data, LoginPassword) else ""


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"modelrun"
        and auth_data.password == b"s3cret"
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    kwargs = dict(
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    if len(sys.argv) > 4:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    controller = Controller(Handler(out), **kwargs)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
