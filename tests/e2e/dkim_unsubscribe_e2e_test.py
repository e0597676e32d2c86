#!/usr/bin/python3
"""End-to-end DKIM signing and one-click unsubscribe through the `salvo` daemon.

Salvo runs with [dkim] keys made by `salvo dkim keygen` (rsa2048 and ed25519,
one domain dual-signed), delivers single messages (SMTP relay from loopback)
and campaigns (HTTP API) to a real remote MTA (tests/smtp/peer_mta.py,
aiosmtpd) through a [[route]]. Every message that arrives is checked with an
independent verifier, python3-dkim (dkimpy), against the public keys that
dnsmasq publishes as TXT records on a loopback port. The one-click
unsubscribe link taken from a delivered campaign message is POSTed
(RFC 8058) and the recipient must be suppressed and skipped by the next
campaign.

Run: SALVO_BIN=build/cmd/salvo /usr/bin/python3 tests/e2e/dkim_unsubscribe_e2e_test.py
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

import dkim
import dns.resolver

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from salvo_e2e_test import Peer, Salvo, free_port, read_file, wait_for  # noqa: E402

SALVO = os.path.abspath(os.environ["SALVO_BIN"]) if "SALVO_BIN" in os.environ else "salvo"
TOKEN = "dkim-e2e-token-0123456789"

# (domain, selector, type): dual.test is signed twice (rsa and ed25519).
KEYS = [("rsa.test", "r2048", "rsa"), ("ed.test", "e1", "ed25519"),
        ("dual.test", "r1", "rsa"), ("dual.test", "e1", "ed25519")]


def free_udp_tcp_port():
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise AssertionError("no free port")


def keygen(workdir, domain, selector, kind):
    """Runs `salvo dkim keygen`; returns (key file, TXT strings)."""
    out = os.path.join(workdir, "keys")
    r = subprocess.run([SALVO, "dkim", "keygen", "--domain", domain, "--selector", selector,
                        "--type", kind, "--out", out],
                       capture_output=True, text=True, timeout=60, check=True)
    strings = re.findall(r'"([^"]*)"', r.stdout)
    assert strings and strings[0].startswith("v=DKIM1"), r.stdout
    return os.path.join(out, "%s.%s.pem" % (domain, selector)), strings


class Dnsmasq:
    """Publishes the TXT records on 127.0.0.1:port (nothing else resolves)."""

    def __init__(self, workdir, records):
        self.port = free_udp_tcp_port()
        args = ["/usr/sbin/dnsmasq", "--port=%d" % self.port, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-daemon",
                "--user=root", "--conf-file=/dev/null", "--local=/test/",
                "--log-facility=" + os.path.join(workdir, "dnsmasq.log"),
                "--pid-file=" + os.path.join(workdir, "dnsmasq.pid")]
        for name, strings in records.items():
            # No shell: dnsmasq would keep quotes literally; the strings hold no ','.
            args.append("--txt-record=%s,%s" % (name, ",".join(strings)))
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.resolver = dns.resolver.Resolver(configure=False)
        self.resolver.nameservers = ["127.0.0.1"]
        self.resolver.port = self.port
        self.resolver.lifetime = 3
        wait_for(self._ready, 10, "dnsmasq to answer")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("dnsmasq exited: %s" % self.proc.stderr.read())
        try:
            self.resolver.resolve("nothing.test", "TXT")
        except dns.resolver.NXDOMAIN:
            return True
        except Exception:
            return False
        return True

    def dnsfunc(self, name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = self.resolver.resolve(name, "TXT")
        except Exception:
            return None
        return b"".join(b"".join(r.strings) for r in answer)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stderr.close()


def config(workdir, ports, keys, extra=""):
    key_tables = "".join(
        '[[dkim.key]]\ndomain = "%s"\nselector = "%s"\nkey_file = "%s"\n\n' % k for k in keys)
    return """
[server]
hostname = "salvo.test"
data_dir = "%(data)s"
shards = 2

[[listener]]
name = "smtp"
kind = "smtp"
address = "127.0.0.1:%(smtp)d"
tls = "none"

[[listener]]
name = "http"
kind = "http"
address = "127.0.0.1:%(http)d"
tls = "none"

[queue]
retry_schedule = ["1s"]
retry_jitter = 0.0

[delivery]
tls = "off"
idle_timeout = "1s"

[[route]]
domain = "example.test"
next_hop = "127.0.0.1:%(peer)d"

[api]
keys = ["sha256:%(digest)s"]
public_url = "http://127.0.0.1:%(http)d"

[dkim]
canonicalization = "relaxed/relaxed"
%(extra)s

%(keys)s
""" % {"data": os.path.join(workdir, "data"), "smtp": ports["smtp"], "http": ports["http"],
       "peer": ports["peer"], "digest": hashlib.sha256(TOKEN.encode()).hexdigest(),
       "keys": key_tables, "extra": extra}


def single_messages():
    """(name, From domain, bytes): 7-bit, 8-bit, multipart, folded, trailing blanks."""
    seven = (b"From: App <app@rsa.test>\r\nTo: <s1@example.test>\r\nSubject: seven bit\r\n"
             b"Message-ID: <s1@rsa.test>\r\nDate: Mon, 23 Nov 2026 01:00:00 +0000\r\n\r\n"
             b"Plain 7-bit text.\r\nSecond line.\r\n")
    eight = ("From: App <app@ed.test>\r\nTo: <s2@example.test>\r\nSubject: acht bit\r\n"
             "Message-ID: <s2@ed.test>\r\nMIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             "Grüße aus Zürich — 8-bit body.\r\n").encode("utf-8")
    multipart = (b"From: App <app@dual.test>\r\nTo: <s3@example.test>\r\nSubject: multipart\r\n"
                 b"Message-ID: <s3@dual.test>\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
                 b"--b1\r\nContent-Type: text/plain\r\n\r\nText part.\r\n"
                 b"--b1\r\nContent-Type: text/html\r\n\r\n<p>HTML part.</p>\r\n--b1--\r\n")
    folded = (b"From: App\r\n <app@dual.test>\r\nTo: <s4@example.test>\r\n"
              b"Subject: a subject that is folded\r\n\tover two lines   with  spaces\r\n"
              b"Message-ID: <s4@dual.test>\r\n\r\nBody with trailing blank lines.\r\n"
              b"\r\n\r\n\r\n")
    return [("7bit", "rsa.test", seven), ("8bit", "ed.test", eight),
            ("multipart", "dual.test", multipart), ("folded", "dual.test", folded)]


class DkimUnsubscribeEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="salvo-dkim-e2e-")
        cls.keys, records = [], {}
        for domain, selector, kind in KEYS:
            path, strings = keygen(cls.workdir, domain, selector, kind)
            cls.keys.append((domain, selector, path))
            records["%s._domainkey.%s" % (selector, domain)] = strings
        cls.dns = Dnsmasq(cls.workdir, records)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="run-", dir=self.workdir)
        ports = []
        while len(ports) < 3:  # free_port() may repeat a port: draw distinct ones
            port = free_port()
            if port not in ports:
                ports.append(port)
        self.ports = dict(zip(("smtp", "http", "peer"), ports))
        self.peer = Peer(self.dir, self.ports["peer"])
        self.salvo = None

    def tearDown(self):
        if self.salvo:
            self.salvo.stop(signal.SIGKILL)
        self.peer.stop()
        if os.environ.get("SALVO_E2E_LOG") and self.salvo:
            sys.stderr.write("---- salvo log ----\n" + self.salvo.log_text())

    def start_salvo(self, extra=""):
        self.salvo = Salvo(self.dir, config(self.dir, self.ports, self.keys, extra))
        self.salvo.start([self.ports["smtp"], self.ports["http"]])

    def api(self, method, path, body=None, auth=True, content_type="application/json"):
        c = http.client.HTTPConnection("127.0.0.1", self.ports["http"], timeout=30)
        headers = {}
        if auth:
            headers["Authorization"] = "Bearer " + TOKEN
        if body is not None:
            headers["Content-Type"] = content_type
            if not isinstance(body, bytes):
                body = json.dumps(body).encode()
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def verify_all(self, messages):
        """Every DKIM-Signature of every message verifies; returns d= per message."""
        signers = []
        for m in messages:
            raw = m["content"].encode("utf-8", "surrogateescape")
            headers, _ = dkim.rfc822_parse(raw)
            sigs = [v for n, v in headers if n.lower() == b"dkim-signature"]
            self.assertTrue(sigs, "unsigned message:\n" + m["content"][:600])
            for idx in range(len(sigs)):
                ok = dkim.DKIM(raw).verify(idx=idx, dnsfunc=self.dns.dnsfunc)
                self.assertTrue(ok, "signature %d does not verify:\n%s" % (idx, m["content"][:2000]))
            signers.append(sorted(re.search(rb"a=([a-z0-9-]+)", s).group(1).decode()
                                  for s in sigs))
        return signers

    def campaign(self, name, recipients, html=None, text=None, tags=None, from_="News <news@dual.test>"):
        body = {"name": name, "from": from_, "subject": "{{first}}, news for you",
                "recipients": recipients}
        if text is not None:
            body["text"] = text
        if html is not None:
            body["html"] = html
        if tags:
            body["settings"] = {"tags": tags}
        status, data = self.api("POST", "/v1/campaigns", body)
        self.assertEqual(status, 202, data)
        return json.loads(data)

    def test_single_messages_are_signed_and_verify(self):
        self.start_salvo()
        cases = single_messages()
        with smtplib.SMTP("127.0.0.1", self.ports["smtp"], timeout=30) as c:
            for i, (_, _, data) in enumerate(cases):
                c.sendmail("app@sender.test", ["s%d@example.test" % (i + 1)], data)
        got = wait_for(lambda: len(self.peer.messages()) >= len(cases) and self.peer.messages(),
                       60, "the single messages at the remote MTA")
        signers = self.verify_all(got)
        by_rcpt = {m["rcpt_tos"][0]: s for m, s in zip(got, signers)}
        self.assertEqual(by_rcpt["s1@example.test"], ["rsa-sha256"])
        self.assertEqual(by_rcpt["s2@example.test"], ["ed25519-sha256"])
        self.assertEqual(by_rcpt["s3@example.test"], ["ed25519-sha256", "rsa-sha256"])
        for m in got:  # the body arrives unchanged after the signature
            self.assertTrue(m["content"].startswith("DKIM-Signature:"), m["content"][:200])
        folded = [m for m in got if m["rcpt_tos"] == ["s4@example.test"]][0]
        self.assertTrue(folded["content"].endswith("lines.\r\n\r\n\r\n\r\n") or
                        folded["content"].endswith("lines.\n\n\n\n"), repr(folded["content"][-40:]))

    def test_campaigns_signed_with_bulk_headers_and_one_click_unsubscribe(self):
        self.start_salvo()
        people = [{"address": "c%d@example.test" % i, "vars": {"first": "P%d" % i}}
                  for i in range(1, 5)]
        # Static multipart body (html + text): one body hash for the campaign.
        first = self.campaign("static", people, html="<p>Hello — same for all</p>",
                              text="Hello, same for all.\n\n\n",
                              tags={"list_id": "news.dual.test", "customer": "acme",
                                    "precedence": "bulk"})
        self.assertNotIn("warnings", first)
        # Per-recipient body (variables): a full signature each.
        self.campaign("personal", [{"address": "v@example.test", "vars": {"first": "Vee"}}],
                      text="Dear {{first}},\r\n8-bit: Grüße.\r\n")
        got = wait_for(lambda: len(self.peer.messages()) >= 5 and self.peer.messages(), 60,
                       "the campaign messages at the remote MTA")
        signers = self.verify_all(got)
        self.assertTrue(all(s == ["ed25519-sha256", "rsa-sha256"] for s in signers), signers)
        msg = [m for m in got if m["rcpt_tos"] == ["c2@example.test"]][0]["content"]
        headers = dict((k.lower(), v) for k, v in re.findall(r"^([A-Za-z-]+): (.*?)\r?$", msg, re.M))
        self.assertEqual(headers["list-unsubscribe-post"], "List-Unsubscribe=One-Click")
        self.assertEqual(headers["list-id"], "<news.dual.test>")
        self.assertEqual(headers["precedence"], "bulk")
        self.assertRegex(headers["feedback-id"], r"^[0-9a-f-]+:acme:bulk:salvo\.test$")
        h_tags = " ".join(re.findall(r"h=([^;]*);", msg.replace("\r\n", "").replace("\t", "")))
        for name in ("list-unsubscribe", "list-unsubscribe-post", "feedback-id", "list-id"):
            self.assertIn(name, h_tags.lower())
        url = re.search(r"<(http://[^>]+)>", headers["list-unsubscribe"]).group(1)
        path = urllib.parse.urlparse(url).path

        status, page = self.api("GET", path, auth=False)
        self.assertEqual(status, 200)
        self.assertIn(b"c2@example.test", page)
        self.assertIn(b'method="post"', page)
        forged = path[:-4] + ("aaaa" if not path.endswith("aaaa") else "bbbb")
        status, _ = self.api("POST", forged, b"List-Unsubscribe=One-Click", auth=False,
                             content_type="application/x-www-form-urlencoded")
        self.assertIn(status, (400, 404))
        status, _ = self.api("POST", "/v1/unsubscribe/not-a-token!", b"List-Unsubscribe=One-Click",
                             auth=False, content_type="application/x-www-form-urlencoded")
        self.assertIn(status, (400, 404))
        status, data = self.api("POST", path, b"List-Unsubscribe=One-Click", auth=False,
                                content_type="application/x-www-form-urlencoded")
        self.assertEqual(status, 200, data)
        self.assertEqual(json.loads(data)["address"], "c2@example.test")
        status, data = self.api("GET", "/v1/suppressions/c2@example.test")
        self.assertEqual(status, 200, data)
        entry = json.loads(data)
        self.assertEqual(entry["source"], "unsubscribe")
        self.assertIn(first["id"], entry["reason"])

        before = len(self.peer.messages())
        self.campaign("next", people, text="The next issue.\n")
        wait_for(lambda: len(self.peer.messages()) >= before + 3, 60, "the next campaign")
        time.sleep(2)  # a message to c2 would have come by now
        later = self.peer.messages()[before:]
        self.assertEqual(sorted(m["rcpt_tos"][0] for m in later),
                         ["c1@example.test", "c3@example.test", "c4@example.test"])
        self.verify_all(later)

    def test_signing_backlog_batches_wakeups_and_every_message_verifies(self):
        # One signing thread and a tiny backlog_wait: a queued signature is
        # enough for the shards to batch their wake-ups behind the backlog.
        self.start_salvo(extra='signing_threads = 1\nbacklog_wait = "50us"')
        people = [{"address": "b%d@example.test" % i, "vars": {"first": "P%d" % i}}
                  for i in range(200)]
        # Per-recipient bodies: a full dual signature for every message.
        self.campaign("backlog", people, text="Dear {{first}},\r\nthe same offer for you.\r\n")
        got = wait_for(lambda: len(self.peer.messages()) >= 200 and self.peer.messages(), 120,
                       "the 200 campaign messages at the remote MTA")
        self.assertEqual(sorted(m["rcpt_tos"][0] for m in got),
                         sorted(p["address"] for p in people))
        signers = self.verify_all(got)
        self.assertTrue(all(s == ["ed25519-sha256", "rsa-sha256"] for s in signers), signers)
        status, metrics = self.api("GET", "/metrics", auth=False)
        self.assertEqual(status, 200)
        batched = re.search(rb"^salvo_delivery_batched_sleeps_total (\d+)", metrics, re.M)
        self.assertIsNotNone(batched, metrics[:2000])
        self.assertGreater(int(batched.group(1)), 0)

    def test_campaign_checks_warn_or_refuse(self):
        self.start_salvo(extra='campaign_checks = "error"')
        body = {"name": "unsigned", "from": "news@nokey.test", "subject": "s", "text": "t",
                "recipients": [{"address": "w@example.test"}]}
        status, data = self.api("POST", "/v1/campaigns", body)
        self.assertEqual(status, 400, data)
        self.assertEqual(json.loads(data)["error"]["code"], "bulk_sender_rules")
        self.assertIn("nokey.test", data.decode())
        body["from"] = "news@rsa.test"
        body["settings"] = {"tags": {"unsubscribe": "off"}}
        status, data = self.api("POST", "/v1/campaigns", body)
        self.assertEqual(status, 400, data)
        self.assertIn("unsubscribe", data.decode())
        body["settings"] = {"tags": {"unsubscribe": "off", "mail_type": "transactional"}}
        status, data = self.api("POST", "/v1/campaigns", body)
        self.assertEqual(status, 202, data)

    def test_missing_key_defer_policy_defers_unsigned_mail(self):
        self.start_salvo(extra='missing_key = "defer"\ncampaign_checks = "warn"')
        body = {"name": "nokey", "from": "news@nokey.test", "subject": "s", "text": "t",
                "recipients": [{"address": "d@example.test"}]}
        status, data = self.api("POST", "/v1/campaigns", body)
        self.assertEqual(status, 202, data)
        self.assertIn("nokey.test", " ".join(json.loads(data)["warnings"]))
        log = os.path.join(self.dir, "data", "log", "delivery.jsonl")
        wait_for(lambda: "missing_key" in read_file(log), 30, "the deferral in the delivery log")
        self.assertEqual(self.peer.messages(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
