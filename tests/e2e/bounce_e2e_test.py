#!/usr/bin/python3
"""End-to-end: bounces in, through the real daemon.

A campaign goes out through `salvo serve` to a real remote MTA (aiosmtpd),
with a VERP return path. The test then plays the receiving side's MTA: it
sends DSNs (built with Python's email package) to that return path on
Salvo's bounce MX listener, and checks what an operator sees — the bounce
MX refuses everything but the bounce domain and FBL addresses, a hard bounce
with a genuine token suppresses the address (GET /v1/suppressions), a forged
token suppresses no one, the next campaign skips the suppressed address, and
the bounces sit in the bounce mailbox (read with imaplib when the daemon
serves IMAP).

Run: SALVO_BIN=build/cmd/salvo /usr/bin/python3 tests/e2e/bounce_e2e_test.py
"""
import imaplib
import os
import poplib
import smtplib
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import salvo_e2e_test as base  # noqa: E402  (the daemon harness; not its tests)
from salvo_e2e_test import Peer, can_connect, free_port, wait_for  # noqa: E402

TOKEN = "bounce-e2e-token-0123456789"


def dsn(verp, failed, status, diagnostic):
    """A standard RFC 3464 report, as a receiving MTA would send it."""
    text = (
        "From: MAILER-DAEMON@mx.example.test\r\n"
        "To: %(verp)s\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "Your message could not be delivered.\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.test\r\n"
        "\r\n"
        "Final-Recipient: rfc822; %(failed)s\r\n"
        "Action: failed\r\n"
        "Status: %(status)s\r\n"
        "Diagnostic-Code: smtp; %(diagnostic)s\r\n"
        "--b1--\r\n") % {"verp": verp, "failed": failed, "status": status,
                           "diagnostic": diagnostic}
    return text.encode()


class BounceEndToEnd(unittest.TestCase):
    # The daemon harness of salvo_e2e_test, without its tests.
    setUp = base.SalvoEndToEnd.setUp
    tearDown = base.SalvoEndToEnd.tearDown
    _outcome_failed = base.SalvoEndToEnd._outcome_failed
    start_salvo = base.SalvoEndToEnd.start_salvo

    def start_bounce_salvo(self):
        # free_port() may hand out a port again once its probe socket is
        # closed: draw until every listener of the daemon has its own.
        taken = {self.smtp_port, self.submission_port, self.http_port, self.peer_port}
        ports = []
        while len(ports) < 3:
            port = free_port()
            if port not in taken:
                taken.add(port)
                ports.append(port)
        self.bounce_port, self.imap_port, self.pop3_port = ports
        self.start_salvo(extra=base.operator_config(TOKEN, self.imap_port) + """
[[listener]]
name = "pop3"
kind = "pop3"
address = "127.0.0.1:%d"
tls = "starttls"

[bounce]
domains = ["bounces.test"]
fbl_addresses = ["fbl@feedback.test"]
soft_bounce_limit = 2

[[listener]]
name = "bounce"
kind = "bounce"
address = "127.0.0.1:%d"
tls = "starttls"
""" % (self.pop3_port, self.bounce_port))
        for port in (self.bounce_port, self.imap_port, self.pop3_port):
            wait_for(lambda: can_connect(port), 30, "listener %d" % port)

    def api(self, method, path, body=None):
        return base.api_call(self.http_port, TOKEN, method, path, body)

    def campaign(self, name, addresses):
        status, body = self.api("POST", "/v1/campaigns", {
            "name": name, "from": "news@shop.test", "subject": "Hello",
            "text": "Hi there.\n",
            "recipients": [{"address": a} for a in addresses]})
        self.assertEqual(status, 202, body)
        return body["id"]

    def test_bounce_mx_refuses_everything_but_bounce_domains(self):
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_bounce_salvo()
        with smtplib.SMTP("127.0.0.1", self.bounce_port, timeout=30) as c:
            c.ehlo("mx.example.test")
            self.assertNotIn("auth", c.esmtp_features)
            self.assertEqual(c.mail("")[0], 250)
            code, text = c.rcpt("victim@example.test")
            self.assertEqual(code, 550, text)
            self.assertIn(b"5.7.1", text)
            self.assertEqual(c.rcpt("bounce+anything@bounces.test")[0], 250)
            self.assertEqual(c.rcpt("fbl@feedback.test")[0], 250)
            self.assertEqual(c.rcpt("other@feedback.test")[0], 550)

    def test_hard_bounce_suppresses_and_the_next_campaign_skips_the_address(self):
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_bounce_salvo()
        self.campaign("first", ["gone@example.test", "kept@example.test"])
        got = wait_for(lambda: len(self.peer.messages()) >= 2 and self.peer.messages(), 30,
                       "both campaign messages at the remote MTA")
        by_rcpt = {m["rcpt_tos"][0]: m for m in got}
        verp_gone = by_rcpt["gone@example.test"]["mail_from"]
        verp_kept = by_rcpt["kept@example.test"]["mail_from"]
        self.assertTrue(verp_gone.startswith("bounce+") and verp_gone.endswith("@bounces.test"),
                        verp_gone)
        self.assertNotEqual(verp_gone, verp_kept)

        # A forged token (one character changed) is stored but suppresses no one.
        forged = verp_kept[:9] + ("a" if verp_kept[9] != "a" else "b") + verp_kept[10:]
        with smtplib.SMTP("127.0.0.1", self.bounce_port, timeout=30) as c:
            refused = c.sendmail("", [forged], dsn(forged, "kept@example.test", "5.1.1",
                                                   "550 5.1.1 <kept@example.test>: no such user"))
            self.assertEqual(refused, {})
            refused = c.sendmail("", [verp_gone], dsn(verp_gone, "gone@example.test", "5.1.1",
                                                      "550 5.1.1 <gone@example.test>: no such user"))
            self.assertEqual(refused, {})
        status, entry = self.api("GET", "/v1/suppressions/gone@example.test")
        self.assertEqual(status, 200, entry)
        self.assertEqual(entry.get("source"), "bounce", entry)
        self.assertIn("bad-mailbox", entry.get("reason", ""), entry)
        status, _ = self.api("GET", "/v1/suppressions/kept@example.test")
        self.assertEqual(status, 404)
        self.assertIn("category=bad-mailbox", self.salvo.log_text())

        # Both bounces are in the mailbox: INBOX has both, Hard has both (the
        # forged one is filed by what it says, it just suppresses no one), and
        # the genuine one is found by its stamped category and address.
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            imap.login("ops", "op-pass")
            typ, data = imap.select("INBOX", readonly=True)
            self.assertEqual((typ, data[0]), ("OK", b"2"))
            typ, data = imap.select("Hard", readonly=True)
            self.assertEqual((typ, data[0]), ("OK", b"2"))
            typ, data = imap.search(None, "HEADER", "X-Salvo-Verp", "verified")
            self.assertEqual(typ, "OK")
            hits = data[0].split()
            self.assertEqual(len(hits), 1, data)
            typ, data = imap.fetch(hits[0], "(BODY.PEEK[HEADER.FIELDS (X-Salvo-Category "
                                            "X-Salvo-Recipient)])")
            self.assertEqual(typ, "OK")
            fields = data[0][1].decode()
            self.assertIn("X-Salvo-Category: bad-mailbox", fields)
            self.assertIn("X-Salvo-Recipient: gone@example.test", fields)
        finally:
            imap.logout()
        pop = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        try:
            pop.user("ops")
            pop.pass_("op-pass")
            count, _ = pop.stat()
            self.assertEqual(count, 2)
            lines = pop.retr(1)[1]
            self.assertTrue(any(l.startswith(b"X-Salvo-Category:") for l in lines), lines[:8])
        finally:
            pop.quit()

        # The next campaign reaches kept@ only.
        self.campaign("second", ["gone@example.test", "kept@example.test"])
        wait_for(lambda: len(self.peer.messages()) >= 3, 30, "the second campaign's message")
        later = self.peer.messages()[2:]
        self.assertEqual([m["rcpt_tos"] for m in later], [["kept@example.test"]])

    def test_salvos_own_dsn_comes_back_to_its_bounce_mx(self):
        # The remote MTA refuses one recipient with 550; Salvo's DSN for the
        # single message goes to the envelope sender, whose domain is the
        # bounce domain, routed to Salvo's own bounce listener.
        self.peer = Peer(self.workdir, self.peer_port, "--reject-rcpt", "nobody@example.test")
        self.start_bounce_salvo_with_self_route()
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            c.sendmail("app@bounces.test", ["nobody@example.test"],
                       b"From: app@bounces.test\r\nTo: nobody@example.test\r\n"
                       b"Subject: will bounce\r\nMessage-ID: <own-dsn@bounces.test>\r\n\r\n"
                       b"Hello.\r\n")
        wait_for(lambda: "bounce " in self.salvo.log_text() and
                 "category=bad-mailbox" in self.salvo.log_text(), 60,
                 "Salvo's DSN stored by its bounce MX")
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            imap.login("ops", "op-pass")
            typ, data = imap.select("Hard", readonly=True)
            self.assertEqual((typ, data[0]), ("OK", b"1"))
            typ, data = imap.fetch(b"1", "(BODY.PEEK[])")
            raw = data[0][1].decode(errors="replace")
            self.assertIn("X-Salvo-Recipient: nobody@example.test", raw)
            self.assertIn("multipart/report", raw)
            self.assertIn("Reporting-MTA: dns; salvo.test", raw)
        finally:
            imap.logout()

    def start_bounce_salvo_with_self_route(self):
        # start_bounce_salvo, plus a route for the bounce domain to the
        # bounce listener (its port is known only here).
        original = self.start_salvo

        def with_route(extra="", smtp_extra=""):
            extra += '\n[[route]]\ndomain = "bounces.test"\nnext_hop = "127.0.0.1:%d"\n' % (
                self.bounce_port)
            original(extra=extra, smtp_extra=smtp_extra)
        self.start_salvo = with_route
        try:
            self.start_bounce_salvo()
        finally:
            self.start_salvo = original


if __name__ == "__main__":
    unittest.main(verbosity=2)
