"""A small SMTP server for missive's integration tests (aiosmtpd).

Binds 127.0.0.1 on a free port, prints exactly one line `READY <port>` on stdout once it
is listening, then serves until killed. Each accepted message is saved in --maildir as
`N.eml` (the exact bytes received, dot-unstuffed) and `N.json` (`{"mail_from",
"rcpt_tos", "mail_options", "queue_id", "auth", "tls", "python"}`, where "python" is how
Python's email package reads the message), N = 1, 2, ... The 250 reply after DATA is
`250 2.0.0 Ok: queued as <queue_id>`.

Modes: plain (no TLS), starttls (STARTTLS offered and required before AUTH/MAIL), tls
(implicit TLS from the first byte). Faults: --fail-first-data CODE (with --fail-count N),
--reject-rcpt ADDR, --drop-during-data N, --stall-after-data N, --no-smtputf8.

Every transaction that reaches DATA appends one line to `transactions.log` in the maildir:
the reply code given (250, 451, ...), `drop` or `stall`.
"""
import argparse
import asyncio
import base64
import email
import email.policy
import hashlib
import json
import logging
import os
import secrets
import ssl
import string
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert", help="server certificate chain, PEM")
    p.add_argument("--key", help="server private key, PEM")
    p.add_argument("--auth", metavar="USER:PASSWORD",
                   help="require AUTH PLAIN/LOGIN with these credentials (else 535)")
    p.add_argument("--xoauth2", metavar="USER:TOKEN",
                   help="offer AUTH XOAUTH2 and accept this user with this bearer token")
    p.add_argument("--port", type=int, default=0,
                   help="listen on this port (default: a free one)")
    p.add_argument("--maildir", required=True, help="where accepted messages are saved")
    p.add_argument("--fail-first-data", type=int, metavar="CODE",
                   help="answer the first DATA with this code (e.g. 451); later ones 250")
    p.add_argument("--fail-count", type=int, default=1, metavar="N",
                   help="with --fail-first-data: fail the first N DATA commands (default 1)")
    p.add_argument("--no-smtputf8", action="store_true",
                   help="do not offer SMTPUTF8 (RFC 6531)")
    p.add_argument("--stall-after-data", type=int, default=0, metavar="N",
                   help="take the message but never answer, for the first N transactions")
    p.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDR",
                   help="answer RCPT TO for this address with 550 (repeatable)")
    p.add_argument("--drop-during-data", type=int, default=0, metavar="N",
                   help="close the connection in the middle of DATA for the first N transactions")
    p.add_argument("--drop-after-dot", type=int, default=0, metavar="N",
                   help="store the message, then hang up without replying, for the first N"
                        " transactions (the client cannot know it was delivered)")
    p.add_argument("--max-rcpts", type=int, default=0, metavar="N",
                   help="answer RCPT TO with 452 after N recipients in one transaction")
    p.add_argument("--close-after", type=int, default=0, metavar="N",
                   help="close each connection right after answering its Nth message")
    p.add_argument("--delay-rcpt-ms", type=int, default=0, metavar="MS",
                   help="wait this long before answering each RCPT (a slow server)")
    return p.parse_args()


def queue_id():
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))


class State:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.data_seen = 0
        self.drops_left = args.drop_during_data
        self.dot_drops_left = args.drop_after_dot
        self.stalls_left = args.stall_after_data
        self.auth = tuple(args.auth.split(":", 1)) if args.auth else None
        self.xoauth2 = tuple(args.xoauth2.split(":", 1)) if args.xoauth2 else None


def python_view(raw):
    """How Python's own email package reads the message: a second, independent parser."""
    try:
        m = email.message_from_bytes(raw, policy=email.policy.default)
        out = {
            "subject": m["subject"],
            "from": [[a.display_name, a.addr_spec] for a in m["from"].addresses] if m["from"] else [],
            "to": [[a.display_name, a.addr_spec] for a in m["to"].addresses] if m["to"] else [],
            "cc": [[a.display_name, a.addr_spec] for a in m["cc"].addresses] if m["cc"] else [],
            "bcc_header": m["bcc"] is not None,
            "reply_to": [[a.display_name, a.addr_spec] for a in m["reply-to"].addresses] if m["reply-to"] else [],
            "in_reply_to": str(m["in-reply-to"]) if m["in-reply-to"] else None,
            "references": str(m["references"]) if m["references"] else None,
            "message_id": m["message-id"],
            "defects": [type(d).__name__ for d in m.defects],
            "text": None,
            "html": None,
            "attachments": [],
        }
        body = m.get_body(preferencelist=("plain",))
        if body is not None:
            out["text"] = body.get_content()
        html = m.get_body(preferencelist=("html",))
        if html is not None:
            out["html"] = html.get_content()
        for part in m.walk():
            out["defects"] += [type(d).__name__ for d in part.defects]
        for a in m.iter_attachments():
            data = a.get_payload(decode=True) or b""
            out["attachments"].append({
                "filename": a.get_filename(),
                "content_type": a.get_content_type(),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
        return out
    except Exception as e:  # the test shows this
        return {"error": "%s: %s" % (type(e).__name__, e)}


def clean(v):
    """Strings as valid UTF-8 (the email package keeps raw 8-bit header bytes as lone
    surrogates, which JSON readers refuse)."""
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    return v


def log_transaction(state, what):
    with open(os.path.join(state.args.maildir, "transactions.log"), "a") as f:
        f.write(what + "\n")


class Handler:
    def __init__(self, state):
        self.state = state

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in (a.lower() for a in self.state.args.reject_rcpt):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if self.state.args.delay_rcpt_ms:
            await asyncio.sleep(self.state.args.delay_rcpt_ms / 1000)
        limit = self.state.args.max_rcpts
        if limit and len(envelope.rcpt_tos) >= limit:
            return "452 4.5.3 Error: too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        st = self.state
        st.data_seen += 1
        if st.stalls_left > 0:
            st.stalls_left -= 1
            log_transaction(st, "stall")
            await asyncio.sleep(3600)
        code = st.args.fail_first_data
        if code and st.data_seen <= st.args.fail_count:
            log_transaction(st, str(code))
            return "%d 4.3.0 Try again later (injected fault)" % code
        log_transaction(st, "250")
        st.count += 1
        n = st.count
        qid = queue_id()
        d = st.args.maildir
        with open(os.path.join(d, "%d.eml.tmp" % n), "wb") as f:
            f.write(envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "queue_id": qid,
            "auth": session.authenticated is True,
            "tls": session.ssl is not None or st.args.mode == "tls",
            # The client's port tells connections apart (reuse tests count them).
            "peer_port": session.peer[1] if session.peer else 0,
            "python": clean(python_view(envelope.original_content)),
        }
        with open(os.path.join(d, "%d.json.tmp" % n), "w") as f:
            json.dump(meta, f)
        # The .eml first, then the .json: a test that sees N.json can read N.eml.
        os.rename(os.path.join(d, "%d.eml.tmp" % n), os.path.join(d, "%d.eml" % n))
        os.rename(os.path.join(d, "%d.json.tmp" % n), os.path.join(d, "%d.json" % n))
        session.delivered = getattr(session, "delivered", 0) + 1
        if st.args.close_after and session.delivered >= st.args.close_after:
            # After the 250 is written (the reply is written before the task yields), as a server that
            # drops idle or busy clients does.
            transport = server._original_transport or server.transport
            if transport is not None:
                asyncio.get_running_loop().call_soon(transport.close)
        if st.dot_drops_left > 0:
            st.dot_drops_left -= 1
            log_transaction(st, "drop-after-dot")
            transport = server._original_transport or server.transport
            if transport is not None:
                transport.abort()
            await asyncio.sleep(30)
        return "250 2.0.0 Ok: queued as %s" % qid



class XOAuth2Handler(Handler):
    """Offers AUTH XOAUTH2 (aiosmtpd offers every auth_* method a handler has)."""

    async def auth_XOAUTH2(self, server, args):
        # AUTH XOAUTH2 <base64("user=U\x01auth=Bearer T\x01\x01")>
        if len(args) == 2:
            blob = args[1]
        else:
            got = await server.challenge_auth("")
            if not isinstance(got, bytes):
                return AuthResult(success=False, handled=True)
            blob = base64.b64encode(got).decode()
        try:
            text = base64.b64decode(blob, validate=True).decode()
        except Exception:
            await server.push("501 5.5.2 Can't decode base64")
            return AuthResult(success=False, handled=True)
        fields = dict(
            part.split("=", 1) for part in text.split("\x01") if "=" in part
        )
        user, token = self.state.xoauth2
        if fields.get("user") == user and fields.get("auth") == "Bearer " + token:
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        # As Gmail does: a 334 challenge carrying a JSON error, which the client answers
        # with an empty line, then 535.
        error = json.dumps({"status": "400", "schemes": "Bearer",
                            "scope": "https://mail.google.com/"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False,
                          message="535-5.7.8 Username and Password not accepted.\r\n"
                                  "535 5.7.8 https://support.google.com/mail/?p=BadCredentials")


class TestSMTP(SMTP):
    """aiosmtpd's server with the drop-during-DATA fault."""

    state = None

    async def smtp_DATA(self, arg):
        st = self.state
        if st.drops_left > 0 and self.envelope is not None and self.envelope.rcpt_tos:
            st.drops_left -= 1
            log_transaction(st, "drop")
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            # Take the first line of the message, then hang up without a reply.
            try:
                await asyncio.wait_for(self._reader.readuntil(b"\r\n"), 5)
            except Exception:
                pass
            transport = self._original_transport or self.transport
            if transport is not None:
                transport.abort()
            # connection_lost() cancels this handler; until then read no more commands
            # from what the client had already sent.
            await asyncio.sleep(30)
            return
        await super().smtp_DATA(arg)


def authenticator(state):
    def check(server, session, envelope, mechanism, auth_data):
        if state.auth is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = state.auth
        ok = (auth_data.login == user.encode() and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)
    return check


async def main():
    args = parse_args()
    # aiosmtpd warns about AUTH without TLS and its own deprecations on every session; the
    # tests show this stderr when something fails, so keep it to real errors.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    os.makedirs(args.maildir, exist_ok=True)
    state = State(args)
    TestSMTP.state = state

    context = None
    if args.mode != "plain":
        if not (args.cert and args.key):
            print("--mode %s needs --cert and --key" % args.mode, file=sys.stderr)
            sys.exit(2)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)

    exclude = []
    if state.auth is None:
        exclude += ["PLAIN", "LOGIN"]

    def factory():
        return TestSMTP(
            XOAuth2Handler(state) if state.xoauth2 else Handler(state),
            hostname="mx.test",
            data_size_limit=0,
            enable_SMTPUTF8=not args.no_smtputf8,
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            auth_required=state.auth is not None or state.xoauth2 is not None,
            # Real servers refuse AUTH before STARTTLS; plain mode is loopback-only tests,
            # and implicit TLS is encrypted from the start (aiosmtpd does not notice).
            auth_require_tls=args.mode == "starttls",
            auth_exclude_mechanism=exclude,
            authenticator=authenticator(state),
            timeout=30,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory, "127.0.0.1", args.port, ssl=context if args.mode == "tls" else None
    )
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
