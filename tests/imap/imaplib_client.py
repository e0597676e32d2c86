#!/usr/bin/python3
"""Drives the Salvo IMAP server with Python's imaplib (tests/imap).

usage: imaplib_client.py plain|starttls|tls|idle|idle-tls PORT [CAFILE]
Prints "ALL OK" (or, for idle, "IDLING" then "PUSHED <n> EXISTS") and exits 0
when every step gave the expected answer; raises otherwise.
"""
import imaplib
import socket
import ssl
import sys


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: %s" % what)


def connect(mode, port, cafile):
    if mode == "tls":
        ctx = ssl.create_default_context(cafile=cafile)
        return imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx, timeout=20)
    m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    if mode == "starttls":
        check("LOGINDISABLED" in m.capabilities, "LOGINDISABLED before STARTTLS")
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        m.starttls(ssl_context=ctx)
        check("LOGINDISABLED" not in m.capabilities, "LOGIN enabled after STARTTLS")
    return m


def session(m):
    typ, _ = m.login("bounces", "secret")
    check(typ == "OK", "login")
    typ, folders = m.list()
    names = [f.decode().split(' "/" ')[-1] for f in folders]
    for want in ("INBOX", "Hard", "Soft"):
        check(want in names, "LIST has %s: %s" % (want, names))
    typ, data = m.select("Hard")
    check(typ == "OK" and data[0] == b"3", "SELECT Hard: %r" % data)
    typ, data = m.fetch("1:*", "(FLAGS UID RFC822.SIZE INTERNALDATE)")
    check(typ == "OK" and len(data) == 3, "FETCH meta: %r" % data)
    typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT X-SALVO-CATEGORY)] ENVELOPE)")
    check(typ == "OK" and b"Sender 2" in data[0][1], "FETCH header: %r" % data)
    typ, data = m.fetch("1", "(BODY[] BODYSTRUCTURE)")
    check(typ == "OK" and b"Final-Recipient: rfc822; user1@example.com" in data[0][1],
          "FETCH body: %r" % data)
    typ, data = m.uid("SEARCH", None, "UNSEEN")
    check(data[0] == b"2 3", "UID SEARCH UNSEEN: %r" % data)
    typ, data = m.search(None, "HEADER", "X-Salvo-Campaign", "spring")
    check(data[0] == b"1 2 3", "SEARCH by campaign: %r" % data)
    typ, data = m.store("2", "+FLAGS", "(\\Deleted)")
    check(typ == "OK" and b"\\Deleted" in data[0], "STORE: %r" % data)
    typ, data = m.expunge()
    check(typ == "OK" and data[0] == b"2", "EXPUNGE: %r" % data)
    typ, data = m.uid("FETCH", "1:*", "(UID)")
    check(len(data) == 2, "after EXPUNGE: %r" % data)
    typ, data = m.create("Reviewed")
    check(typ == "OK", "CREATE")
    typ, data = m.uid("COPY", "3", "Reviewed")
    check(typ == "OK", "UID COPY: %r" % data)
    typ, data = m.append("Reviewed", "(\\Seen)", None, b"Subject: note\r\n\r\nchecked\r\n")
    check(typ == "OK" and b"APPENDUID" in data[0], "APPEND: %r" % data)
    typ, data = m.status("Reviewed", "(MESSAGES UNSEEN)")
    check(b"MESSAGES 2" in data[0], "STATUS: %r" % data)
    typ, data = m.close()
    check(typ == "OK", "CLOSE")
    typ, data = m.logout()
    check(typ == "BYE", "LOGOUT")


def idle(m):
    m.login("bounces", "secret")
    typ, data = m.select("Hard")
    check(data[0] == b"3", "SELECT: %r" % data)
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    line = m.readline()
    check(line.startswith(b"+"), "IDLE continuation: %r" % line)
    print("IDLING", flush=True)
    m.sock.settimeout(20)
    line = m.readline()
    check(line == b"* 4 EXISTS\r\n", "pushed: %r" % line)
    print("PUSHED 4 EXISTS", flush=True)
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            check(b"OK" in line, "IDLE end: %r" % line)
            break
    m.logout()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    cafile = sys.argv[3] if len(sys.argv) > 3 else None
    if mode == "idle":
        idle(connect("plain", port, cafile))
        return
    if mode == "idle-tls":
        idle(connect("tls", port, cafile))
        return
    session(connect(mode, port, cafile))
    print("ALL OK")


if __name__ == "__main__":
    main()
