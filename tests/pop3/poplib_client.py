#!/usr/bin/python3
"""A POP3 client built on Python's poplib, driven by tests/pop3/client_interop_test.cc.

Logs in (USER/PASS or APOP) over plain TCP, STLS or implicit TLS, lists the
maildrop, retrieves every message, optionally deletes them, quits, and prints
one JSON object describing what it saw. Any poplib error propagates (non-zero
exit status, traceback on stderr).
"""
import argparse
import json
import poplib
import ssl
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["plain", "stls", "pop3s"], default="plain")
    p.add_argument("--cafile")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="wonderland")
    p.add_argument("--apop", help="log in with APOP using this secret")
    p.add_argument("--delete", action="store_true")
    a = p.parse_args()

    ctx = None
    if a.mode != "plain":
        ctx = ssl.create_default_context(cafile=a.cafile)
        ctx.check_hostname = True
    if a.mode == "pop3s":
        conn = poplib.POP3_SSL("localhost", a.port, context=ctx, timeout=20)
    else:
        conn = poplib.POP3("127.0.0.1", a.port, timeout=20)
    capa_before = conn.capa()
    if a.mode == "stls":
        conn.stls(context=ctx)
    capa = conn.capa()
    if a.apop:
        conn.apop(a.user, a.apop)
    else:
        conn.user(a.user)
        conn.pass_(a.password)
    count, size = conn.stat()
    listing = [line.decode() for line in conn.list()[1]]
    uidl = [line.decode() for line in conn.uidl()[1]]
    top = conn.top(1, 0)[1] if count else []
    messages = []
    for i in range(1, count + 1):
        lines = conn.retr(i)[1]
        messages.append(b"\r\n".join(lines).decode("utf-8", "replace") + "\r\n")
        if a.delete:
            conn.dele(i)
    quit_reply = conn.quit().decode()
    json.dump(
        {
            "capa_before": sorted(capa_before.keys()),
            "capa": sorted(capa.keys()),
            "stat": [count, size],
            "list": listing,
            "uidl": uidl,
            "messages": messages,
            "top_lines": len(top),
            "quit": quit_reply,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
