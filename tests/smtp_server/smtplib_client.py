#!/usr/bin/python3
"""Submits one message to the Salvo SMTP server under test with Python's
smtplib, over plain TCP, STARTTLS or implicit TLS, optionally after AUTH
with a chosen mechanism. Prints "RESULT ok" (or "RESULT <error class>")
as its last line; run by tests/smtp_server/client_interop_test.cc."""
import argparse
import smtplib
import ssl
import sys
from email.message import EmailMessage


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["plain", "starttls", "smtps"], default="plain")
    p.add_argument("--cafile")
    p.add_argument("--auth", default="none")  # none, PLAIN, LOGIN, CRAM-MD5
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="wonderland")
    p.add_argument("--sender", default="py@client.test")
    p.add_argument("--to", action="append", required=True)
    p.add_argument("--subject", default="from smtplib")
    p.add_argument("--dsn", action="store_true")
    args = p.parse_args()

    ctx = None
    if args.mode != "plain":
        ctx = ssl.create_default_context(cafile=args.cafile)  # verifies 127.0.0.1
    try:
        if args.mode == "smtps":
            s = smtplib.SMTP_SSL("127.0.0.1", args.port, context=ctx, timeout=20)
        else:
            s = smtplib.SMTP("127.0.0.1", args.port, timeout=20)
        s.ehlo("py.client.test")
        if args.mode == "starttls":
            s.starttls(context=ctx)
            s.ehlo("py.client.test")
        if args.auth != "none":
            s.user, s.password = args.user, args.password
            method = getattr(s, "auth_" + args.auth.lower().replace("-", "_"))
            s.auth(args.auth, method)
        msg = EmailMessage()
        msg["From"] = args.sender
        msg["To"] = ", ".join(args.to)
        msg["Subject"] = args.subject
        msg.set_content("Hello from smtplib.\n.a line starting with a dot\n")
        mail_options, rcpt_options = [], []
        if args.dsn:
            mail_options = ["RET=HDRS", "ENVID=py-envid"]
            rcpt_options = ["NOTIFY=SUCCESS,FAILURE"]
        refused = s.send_message(msg, args.sender, args.to, mail_options, rcpt_options)
        s.quit()
    except smtplib.SMTPAuthenticationError as e:
        print("RESULT autherror", e.smtp_code, flush=True)
        return 0
    except Exception as e:  # reported to the test, which fails on it
        print("RESULT error", type(e).__name__, e, flush=True)
        return 0
    print("RESULT ok" if not refused else "RESULT refused %r" % refused, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
