#!/usr/bin/python3
"""End-to-end: DSNs written by a real Postfix come back to Salvo's bounce MX.

    Salvo (campaign, VERP) ──► private Postfix 127.0.0.1:P (accepts: Salvo
    records `delivered`) ──► unknown@bouncy.test: relayed to the next MX
    (aiosmtpd), which answers 550 5.1.1 at RCPT; full@bouncy.test: Postfix's
    error(8) transport, "5.2.2 mailbox full"; ok@bouncy.test: relayed and
    accepted. Postfix's bounce daemon then writes its own DSNs to the VERP
    return path bounce+TOKEN@bounces.salvo.test, which its transport table
    sends to Salvo's `kind = "bounce"` listener.

What is checked is what Salvo made of Postfix's DSNs: the hard one suppresses
the address (source `bounce`), the quota one does not (soft_bounce_limit = 2:
one quota bounce is not enough; the second campaign's one is, source
`soft-bounce`); both are filed (Hard / Soft) with X-Salvo-Category,
X-Salvo-Recipient and X-Salvo-Verp, read back over IMAP, and both really are
Postfix's (Reporting-MTA, X-Postfix-Queue-ID matching Postfix's own log).
A single message whose envelope sender is an ordinary address gets its
Postfix DSN at that sender's MX, and Salvo's bounce MX sees nothing.

The Postfix instance is private: its own config, queue and data directories
under the test's temporary directory, started and stopped by the test
(tests/e2e/private_postfix.py); the system instance is not touched. It needs
root and Debian's postfix package; without them the tests are skipped.

Run: SALVO_BIN=build/cmd/salvo /usr/bin/python3 tests/e2e/postfix_dsn_e2e_test.py
"""
import imaplib
import os
import re
import smtplib
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import salvo_e2e_test as base  # noqa: E402  (the daemon harness; not its tests)
from private_postfix import PrivatePostfix, available  # noqa: E402
from salvo_e2e_test import Peer, can_connect, free_port, wait_for  # noqa: E402

TOKEN = "postfix-dsn-e2e-token-0123456789"
BOUNCE_DOMAIN = "bounces.salvo.test"
HARD = "unknown@bouncy.test"  # the next MX refuses it: 550 5.1.1 at RCPT
SOFT = "full@bouncy.test"  # Postfix's error(8) transport: 5.2.2 mailbox full
GOOD = "ok@bouncy.test"  # relayed and accepted: no DSN
POSTFIX_HOST = "mx.postfix-dsn.test"


@unittest.skipUnless(available(), "needs root and Debian's postfix package")
class PostfixDsnEndToEnd(unittest.TestCase):
    # The daemon harness of salvo_e2e_test, without its tests.
    start_salvo = base.SalvoEndToEnd.start_salvo

    def _outcome_failed(self):
        # Errors and assertion failures both (the logs are for either).
        result = getattr(getattr(self, "_outcome", None), "result", None)
        return bool(result and any(test is self for test, _ in
                                   getattr(result, "errors", []) + getattr(result, "failures", [])))

    def setUp(self):
        base.SalvoEndToEnd.setUp(self)
        self.postfix = None
        self.sender_mx = None

    def tearDown(self):
        # Postfix first and whatever happens: a failed test leaves no
        # Postfix running.
        try:
            if self.postfix:
                if self._outcome_failed():
                    sys.stderr.write("---- postfix log ----\n" + self.postfix.log_text())
                self.postfix.stop()
        finally:
            if self.sender_mx:
                self.sender_mx.stop()
            base.SalvoEndToEnd.tearDown(self)

    # ---- set-up ----

    def draw_ports(self, count):
        # free_port() may hand out a port again once its probe socket is
        # closed: draw until each listener has its own.
        taken = {self.smtp_port, self.submission_port, self.http_port, self.peer_port}
        ports = []
        while len(ports) < count:
            port = free_port()
            if port not in taken:
                taken.add(port)
                ports.append(port)
        return ports

    def start_all(self, sender_mx=False):
        self.bounce_port, self.imap_port, self.postfix_port, self.sender_port = self.draw_ports(4)
        # The MX behind Postfix for bouncy.test (Salvo's own route for
        # example.test points at it too, unused here).
        self.peer = Peer(self.workdir, self.peer_port, "--reject-rcpt", "^unknown@")
        transports = {
            SOFT: "error:5.2.2 mailbox full",
            "bouncy.test": "smtp:[127.0.0.1]:%d" % self.peer_port,
            BOUNCE_DOMAIN: "smtp:[127.0.0.1]:%d" % self.bounce_port,
        }
        if sender_mx:
            self.sender_mx = Peer(self.workdir, self.sender_port)
            transports["app.test"] = "smtp:[127.0.0.1]:%d" % self.sender_port
        self.postfix = PrivatePostfix(self.workdir, self.postfix_port, ["bouncy.test"],
                                      transports, hostname=POSTFIX_HOST)
        self.postfix.start()
        self.start_salvo_with_bounce_mx()

    def start_salvo_with_bounce_mx(self):
        # soft_bounce_limit = 2: one quota DSN files the bounce as soft and
        # suppresses nothing; a second one within the window suppresses.
        self.start_salvo(extra=base.operator_config(TOKEN, self.imap_port) + """
[bounce]
domains = ["%s"]
soft_bounce_limit = 2

[[listener]]
name = "bounce"
kind = "bounce"
address = "127.0.0.1:%d"
tls = "starttls"

[[route]]
domain = "bouncy.test"
next_hop = "127.0.0.1:%d"
""" % (BOUNCE_DOMAIN, self.bounce_port, self.postfix_port))
        for port in (self.bounce_port, self.imap_port):
            wait_for(lambda: can_connect(port), 30, "listener %d" % port)

    # ---- the API, Postfix's log, the mailbox ----

    def api(self, method, path, body=None):
        return base.api_call(self.http_port, TOKEN, method, path, body)

    def campaign(self, name, addresses):
        status, body = self.api("POST", "/v1/campaigns", {
            "name": name, "from": "news@shop.test", "subject": "Hello " + name,
            "text": "Hi there.\n", "recipients": [{"address": a} for a in addresses]})
        self.assertEqual(status, 202, body)
        return body["id"]

    def counts(self, campaign_id):
        status, body = self.api("GET", "/v1/campaigns/" + campaign_id)
        self.assertEqual(status, 200, body)
        return body["counts"]

    def wait_until_final(self, campaign_id, **expected):
        def done():
            c = self.counts(campaign_id)
            return all(c.get(k) == v for k, v in expected.items()) and c
        return wait_for(done, 30, "campaign %s to reach %s" % (campaign_id, expected))

    def delivered_events(self, campaign_id):
        """address -> the campaign's `delivered` event for it."""
        status, body = self.api("GET", "/v1/campaigns/%s/events?limit=100" % campaign_id)
        self.assertEqual(status, 200, body)
        return {e["address"]: e for e in body["events"] if e["kind"] == "delivered"}

    def postfix_lines(self, needle):
        return [l for l in self.postfix.log_text().splitlines() if needle in l]

    def wait_for_dsns_sent(self, count):
        # Postfix logs `status=sent` once Salvo's bounce MX answered 250,
        # and the bounce MX answers only after the bounce is stored.
        def sent():
            return len([l for l in self.postfix_lines("@%s>" % BOUNCE_DOMAIN)
                        if "status=sent" in l]) >= count
        wait_for(sent, 30, "%d Postfix DSN(s) accepted by Salvo's bounce MX" % count)

    def postfix_queue_id(self, recipient):
        """The queue id of the message Postfix bounced for `recipient`."""
        lines = [l for l in self.postfix_lines("to=<%s>" % recipient)
                 if "status=bounced" in l]
        self.assertTrue(lines, "Postfix bounced no message for %s" % recipient)
        return lines[0].split(": ")[1]

    def imap(self):
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        imap.login("ops", "op-pass")
        return imap

    def folder_messages(self, imap, folder):
        typ, data = imap.select(folder, readonly=True)
        self.assertEqual(typ, "OK", data)
        count = int(data[0])
        messages = []
        for n in range(1, count + 1):
            typ, data = imap.fetch(str(n).encode(), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK", data)
            messages.append(data[0][1].decode(errors="replace"))
        return messages

    def assert_postfix_dsn(self, raw, recipient, status):
        """`raw` is a DSN that Postfix wrote about `recipient`."""
        self.assertIn("From: Mail Delivery System <MAILER-DAEMON@%s>" % POSTFIX_HOST, raw)
        self.assertIn("multipart/report; report-type=delivery-status", raw)
        self.assertIn("Reporting-MTA: dns; %s" % POSTFIX_HOST, raw)
        self.assertIn("X-Postfix-Queue-ID: %s" % self.postfix_queue_id(recipient), raw)
        self.assertIn("by %s (Postfix)" % POSTFIX_HOST, raw)
        self.assertIn("Final-Recipient: rfc822; %s" % recipient, raw)
        self.assertIn("Status: %s" % status, raw)

    # ---- tests ----

    def test_postfix_dsns_are_classified_suppressed_and_filed(self):
        self.start_all()
        first = self.campaign("first", [HARD, SOFT, GOOD])

        # Postfix accepted all three: for Salvo they are delivered.
        self.wait_until_final(first, delivered=3, failed=0)
        relayed = wait_for(lambda: self.peer.messages(), 30, "ok@ relayed by Postfix")
        self.assertEqual([m["rcpt_tos"] for m in relayed], [[GOOD]])
        verp = relayed[0]["mail_from"]
        self.assertTrue(verp.startswith("bounce+") and verp.endswith("@" + BOUNCE_DOMAIN), verp)

        self.wait_for_dsns_sent(2)
        self.assertIn("category=bad-mailbox", self.salvo.log_text())
        # Salvo's delivered events carry Postfix's "queued as <id>": the DSNs
        # below name the same queue ids, and the VERP tokens in them the same
        # recipient ids.
        delivered = self.delivered_events(first)
        for address in (HARD, SOFT):
            self.assertIn("queued as %s" % self.postfix_queue_id(address),
                          delivered[address]["response"]["text"])

        # Hard: suppressed, by the bounce, with its category and Postfix's
        # diagnostic. Soft (quota): not suppressed after one bounce.
        status, entry = self.api("GET", "/v1/suppressions/" + HARD)
        self.assertEqual(status, 200, entry)
        self.assertEqual(entry["source"], "bounce", entry)
        self.assertIn("bad-mailbox", entry["reason"], entry)
        self.assertIn("5.1.1", entry["reason"], entry)
        status, listed = self.api("GET", "/v1/suppressions")
        self.assertEqual(status, 200, listed)
        self.assertEqual([s["address"] for s in listed["suppressions"]], [HARD], listed)

        imap = self.imap()
        try:
            typ, data = imap.select("INBOX", readonly=True)
            self.assertEqual((typ, data[0]), ("OK", b"2"))
            hard = self.folder_messages(imap, "Hard")
            self.assertEqual(len(hard), 1, hard)
            self.assertIn("X-Salvo-Category: bad-mailbox\r\n", hard[0])
            self.assertIn("X-Salvo-Recipient: %s\r\n" % HARD, hard[0])
            self.assertIn("X-Salvo-Verp: verified\r\n", hard[0])
            self.assertIn("X-Salvo-Recipient-Id: %s\r\n" % delivered[HARD]["recipient"], hard[0])
            self.assert_postfix_dsn(hard[0], HARD, "5.1.1")
            self.assertIn("Remote-MTA: dns; 127.0.0.1", hard[0])
            self.assertIn("Diagnostic-Code: smtp; 550 5.1.1", hard[0])
            soft = self.folder_messages(imap, "Soft")
            self.assertEqual(len(soft), 1, soft)
            self.assertIn("X-Salvo-Category: quota-issues\r\n", soft[0])
            self.assertIn("X-Salvo-Recipient: %s\r\n" % SOFT, soft[0])
            self.assertIn("X-Salvo-Verp: verified\r\n", soft[0])
            self.assertIn("X-Salvo-Recipient-Id: %s\r\n" % delivered[SOFT]["recipient"], soft[0])
            self.assert_postfix_dsn(soft[0], SOFT, "5.2.2")
            self.assertIn("Diagnostic-Code: X-Postfix; mailbox full", soft[0])
            # An IMAP client finds them by Salvo's stamps.
            imap.select("INBOX", readonly=True)
            typ, data = imap.search(None, "HEADER", "X-Salvo-Category", "quota-issues")
            self.assertEqual((typ, len(data[0].split())), ("OK", 1), data)
            typ, data = imap.fetch(data[0].split()[0],
                                   "(BODY.PEEK[HEADER.FIELDS (X-Salvo-Recipient)])")
            self.assertIn("X-Salvo-Recipient: %s" % SOFT, data[0][1].decode())
        finally:
            imap.logout()

        # The next campaign skips the hard-bounced address; the quota address
        # is sent again, bounces again, and the second soft bounce within the
        # window suppresses it.
        second = self.campaign("second", [HARD, SOFT, GOOD])
        self.wait_until_final(second, delivered=2, suppressed=1)
        self.wait_for_dsns_sent(3)
        status, entry = self.api("GET", "/v1/suppressions/" + SOFT)
        self.assertEqual(status, 200, entry)
        self.assertEqual(entry["source"], "soft-bounce", entry)
        self.assertIn("quota-issues", entry["reason"], entry)
        self.assertEqual(len(self.postfix_lines("to=<%s>" % HARD)), 1)  # sent once only

    # Un-skip when campaign feedback (docs/api.md, GET /v1/campaigns/{id}/events
    # "Feedback events") is committed; it passed against the working tree.
    def test_postfix_dsns_count_against_their_campaign(self):
        # counts.bounced (a bounced recipient still counts as delivered) and
        # feedback events of kind "bounced" with their category.
        self.start_all()
        campaign = self.campaign("attributed", [HARD, SOFT, GOOD])
        self.wait_until_final(campaign, delivered=3)
        self.wait_for_dsns_sent(2)
        counts = wait_for(lambda: self.counts(campaign)["bounced"] == 2 and self.counts(campaign),
                          30, "two bounces counted against the campaign")
        self.assertEqual(counts["delivered"], 3, counts)
        status, body = self.api("GET", "/v1/campaigns/%s/events?limit=100" % campaign)
        self.assertEqual(status, 200, body)
        bounced = {e["address"]: e for e in body["events"] if e["kind"] == "bounced"}
        self.assertEqual(sorted(bounced), [SOFT, HARD], body)
        self.assertEqual(bounced[HARD]["category"], "bad-mailbox", bounced[HARD])
        self.assertEqual(bounced[SOFT]["category"], "quota-issues", bounced[SOFT])
        # The stored bounces name their campaign (X-Salvo-Campaign, empty today).
        imap = self.imap()
        try:
            imap.select("INBOX", readonly=True)
            typ, data = imap.search(None, "HEADER", "X-Salvo-Campaign", campaign)
            self.assertEqual((typ, len(data[0].split())), ("OK", 2), data)
        finally:
            imap.logout()

    def test_dsn_for_an_ordinary_sender_goes_to_that_sender_not_to_salvo(self):
        # A single message relayed by Salvo with the application's own
        # envelope sender: Postfix's DSN goes to the sender's MX; Salvo's
        # bounce MX receives nothing and suppresses no one.
        self.start_all(sender_mx=True)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            refused = c.sendmail("app@app.test", [HARD],
                                 b"From: app@app.test\r\nTo: %s\r\nSubject: single\r\n"
                                 b"Message-ID: <single@app.test>\r\n\r\nHello.\r\n" % HARD.encode())
            self.assertEqual(refused, {})
        dsns = wait_for(lambda: self.sender_mx.messages(), 30, "Postfix's DSN at the sender's MX")
        self.assertEqual(len(dsns), 1, dsns)
        self.assertIn(dsns[0]["mail_from"], ("", "<>"))  # the null sender
        self.assertEqual(dsns[0]["rcpt_tos"], ["app@app.test"])
        self.assert_postfix_dsn(dsns[0]["content"], HARD, "5.1.1")
        self.assertEqual(self.postfix_lines("@%s>" % BOUNCE_DOMAIN), [])
        self.assertIsNone(re.search(r"bounce \S+: from=<", self.salvo.log_text()))
        status, _ = self.api("GET", "/v1/suppressions/" + HARD)
        self.assertEqual(status, 404)
        imap = self.imap()
        try:
            typ, data = imap.select("INBOX", readonly=True)
            self.assertEqual((typ, data[0]), ("OK", b"0"))
        finally:
            imap.logout()


if __name__ == "__main__":
    unittest.main(verbosity=2)
