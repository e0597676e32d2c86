#!/usr/bin/python3
"""End-to-end tests of the `salvo` daemon: real processes, real sockets.

Each test starts `salvo serve` with its own config and data directory, talks
to it with Python's smtplib as an application would, and lets it deliver to a
real remote MTA (tests/smtp/peer_mta.py, aiosmtpd) reached through a
[[route]]. What is checked is what an operator sees: replies, what arrives at
the remote MTA, and that an acknowledged message survives kill -9.

Run: SALVO_BIN=build/cmd/salvo /usr/bin/python3 tests/e2e/salvo_e2e_test.py
"""
import hashlib
import json
import os
import random
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "smtp", "peer_mta.py")
SALVO = os.path.abspath(os.environ["SALVO_BIN"]) if "SALVO_BIN" in os.environ else "salvo"


def free_port():
    """A loopback TCP port free right now, below the kernel's ephemeral range.

    A port the kernel picked (bind to 0) is ephemeral: once the probe closes,
    any outgoing connection of a test running alongside may take it as its
    source port before salvo binds it. Ports below the range are handed out
    only by explicit binds like this one."""
    low = 20000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    high = max(low + 1000, ephemeral_low)
    for _ in range(200):
        port = random.randrange(low, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free loopback port in [%d, %d)" % (low, high))


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def read_file(path):
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Peer:
    """The remote MTA: aiosmtpd on loopback, one JSON line per message."""

    def __init__(self, workdir, port, *flags):
        self.out = os.path.join(workdir, "peer-%d.jsonl" % port)
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", PEER, "--out", self.out, "--port", str(port),
             "--pipelining", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line

    def messages(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class Salvo:
    def __init__(self, workdir, config):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "salvo.toml")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.log_path = os.path.join(workdir, "salvo.log")
        self.proc = None

    def start(self, ports):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([SALVO, "serve", "--config", self.config_path],
                                     cwd=self.workdir, stdout=self.log, stderr=self.log)
        for port in ports:
            wait_for(lambda: can_connect(port) or self.proc.poll() is not None, 30,
                     "salvo to listen on %d" % port)
        if self.proc.poll() is not None:
            raise AssertionError("salvo exited:\n" + self.log_text())

    def log_text(self):
        return read_file(self.log_path)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.log.close()


def operator_config(token, imap_port):
    """TOML for an API key `token`, the mailbox user ops/op-pass (plain-text
    login allowed on loopback) and an IMAP listener (STARTTLS) on imap_port."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    hashed = subprocess.run([SALVO, "hash-password", "--iterations", "1000"],
                            input="op-pass\n", capture_output=True, text=True, check=True)
    return """
[api]
keys = ["sha256:%s"]

[[user]]
name = "ops"
password_hash = "%s"

[mailbox]
allow_plaintext_auth = true

[[listener]]
name = "imap"
kind = "imap"
address = "127.0.0.1:%d"
tls = "starttls"
""" % (digest, hashed.stdout.strip(), imap_port)


def api_call(http_port, token, method, path, body=None):
    """One JSON request to the HTTP API: (status, decoded body)."""
    url = "http://127.0.0.1:%d%s" % (http_port, path)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def config_text(data_dir, smtp_port, submission_port, http_port, peer_port, extra="",
                smtp_extra="", retry="1s"):
    return """
[server]
hostname = "salvo.test"
data_dir = "%(data)s"
shards = 2
log_level = "info"

[[listener]]
name = "smtp"
kind = "smtp"
address = "127.0.0.1:%(smtp)d"
tls = "starttls"

[[listener]]
name = "submission"
kind = "submission"
address = "127.0.0.1:%(sub)d"
tls = "starttls"

[[listener]]
name = "http"
kind = "http"
address = "127.0.0.1:%(http)d"
tls = "none"

[queue]
retry_schedule = ["%(retry)s"]
retry_jitter = 0.0

[delivery]
tls = "off"
idle_timeout = "1s"

[smtp]
%(smtp_extra)s

[[route]]
domain = "example.test"
next_hop = "127.0.0.1:%(peer)d"

%(extra)s
""" % {"data": data_dir, "smtp": smtp_port, "sub": submission_port, "peer": peer_port,
       "http": http_port, "extra": extra, "smtp_extra": smtp_extra, "retry": retry}


MESSAGE = (b"From: App <app@sender.test>\r\nTo: <a@example.test>\r\n"
           b"Subject: e2e %s\r\nMessage-ID: <%s@sender.test>\r\n\r\nHello from the e2e test.\r\n")


class SalvoEndToEnd(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="salvo-e2e-")
        # free_port() may hand out a port again once its probe socket is
        # closed: draw until each listener has its own.
        ports = []
        while len(ports) < 4:
            port = free_port()
            if port not in ports:
                ports.append(port)
        self.smtp_port, self.submission_port, self.peer_port, self.http_port = ports
        self.peer = None
        self.salvo = None

    def tearDown(self):
        if self.salvo:
            self.salvo.stop(signal.SIGKILL)
        if self.peer:
            self.peer.stop()
        if self._outcome_failed() and self.salvo:
            sys.stderr.write("---- salvo log ----\n" + self.salvo.log_text())
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _outcome_failed(self):
        result = getattr(self, "_outcome", None)
        errors = getattr(result, "errors", None) or getattr(getattr(result, "result", None),
                                                             "errors", [])
        return bool(errors)

    def start_salvo(self, extra="", smtp_extra="", retry="1s"):
        self.salvo = Salvo(self.workdir, config_text(
            os.path.join(self.workdir, "data"), self.smtp_port, self.submission_port,
            self.http_port, self.peer_port, extra, smtp_extra, retry))
        self.salvo.start([self.smtp_port, self.submission_port, self.http_port])

    def test_relay_accepts_from_relay_network_and_delivers_to_the_remote_mta(self):
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_salvo()
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            code, banner = c.ehlo("client.test")
            self.assertEqual(code, 250)
            self.assertIn(b"PIPELINING", banner)
            refused = c.sendmail("app@sender.test", ["a@example.test", "b@example.test"],
                                 MESSAGE % (b"1", b"m1"))
            self.assertEqual(refused, {})
        got = wait_for(lambda: sum(len(m["rcpt_tos"]) for m in self.peer.messages()) >= 2
                       and self.peer.messages(), 30, "both recipients at the remote MTA")
        rcpts = sorted(r for m in got for r in m["rcpt_tos"])
        self.assertEqual(rcpts, ["a@example.test", "b@example.test"])
        content = got[0]["content"]
        self.assertIn("Subject: e2e 1", content)
        self.assertIn("Hello from the e2e test.", content)
        self.assertIn("by salvo.test", content)  # our Received: header
        self.assertEqual(got[0]["mail_from"], "app@sender.test")

    def test_never_an_open_relay(self):
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_salvo(extra='[bounce]\ndomains = ["bounces.test"]\n',
                         smtp_extra='relay_networks = ["192.0.2.0/24"]')
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            c.ehlo("client.test")
            self.assertEqual(c.mail("app@sender.test")[0], 250)
            code, text = c.rcpt("victim@example.test")
            self.assertEqual(code, 550)
            self.assertIn(b"5.7.1", text)
            code, _ = c.rcpt("bounce+x@bounces.test")
            self.assertEqual(code, 250)

    def test_submission_requires_starttls_then_auth(self):
        hashed = subprocess.run([SALVO, "hash-password", "--iterations", "1000"],
                                input="s3cret\n", capture_output=True, text=True, check=True)
        self.assertTrue(hashed.stdout.startswith("pbkdf2-sha256$1000$"), hashed.stdout)
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_salvo(extra='[[user]]\nname = "app"\npassword_hash = "%s"\n'
                         % hashed.stdout.strip())
        with smtplib.SMTP("127.0.0.1", self.submission_port, timeout=30) as c:
            c.ehlo("client.test")
            self.assertNotIn("auth", c.esmtp_features)  # no AUTH before TLS
            code, text = c.mail("app@sender.test")
            self.assertEqual(code, 530)
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c.starttls(context=ctx)
            c.ehlo("client.test")
            self.assertIn("PLAIN", c.esmtp_features.get("auth", "").upper())
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                c.login("app", "wrong")
            c.login("app", "s3cret")
            refused = c.sendmail("app@sender.test", ["c@example.test"], MESSAGE % (b"2", b"m2"))
            self.assertEqual(refused, {})
        got = wait_for(self.peer.messages, 30, "the submitted message at the remote MTA")
        self.assertEqual(got[0]["rcpt_tos"], ["c@example.test"])

    def test_acknowledged_mail_survives_kill_9_and_is_delivered_after_restart(self):
        # The remote MTA is down: the message is acknowledged, then deferred.
        self.start_salvo()
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            refused = c.sendmail("app@sender.test", ["d@example.test"], MESSAGE % (b"3", b"m3"))
            self.assertEqual(refused, {})
        time.sleep(0.5)
        self.salvo.stop(signal.SIGKILL)
        self.peer = Peer(self.workdir, self.peer_port)
        self.salvo.start([self.smtp_port])
        got = wait_for(self.peer.messages, 40, "the message after kill -9 and restart")
        self.assertEqual(got[0]["rcpt_tos"], ["d@example.test"])
        self.assertIn("Subject: e2e 3", got[0]["content"])
        self.assertEqual(self.salvo.stop(signal.SIGTERM), 0)

    def test_permanent_refusal_is_not_retried(self):
        self.peer = Peer(self.workdir, self.peer_port, "--reject-rcpt", "^nobody@")
        self.start_salvo()
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            c.sendmail("app@sender.test", ["nobody@example.test", "e@example.test"],
                       MESSAGE % (b"4", b"m4"))
        got = wait_for(self.peer.messages, 30, "the accepted recipient at the remote MTA")
        self.assertEqual(got[0]["rcpt_tos"], ["e@example.test"])
        time.sleep(3)  # retry_schedule is 1s: a retry would have come by now
        self.assertEqual(len(self.peer.messages()), 1)
        log = os.path.join(self.workdir, "data", "log", "delivery.jsonl")
        text = wait_for(lambda: read_file(log), 10, "delivery log")
        self.assertIn("nobody@example.test", text)

    def test_http_listener_serves_health_and_metrics(self):
        self.start_salvo()
        base = "http://127.0.0.1:%d" % self.http_port
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            self.assertEqual(r.status, 200)
            body = json.loads(r.read())
        self.assertEqual(body.get("status"), "ok", body)
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("salvo_build_info", r.read().decode())
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "/no/such/route", timeout=10)
        self.assertEqual(e.exception.code, 404)

    def test_metrics_count_accepts_connections_deliveries_and_the_queue(self):
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_salvo()
        base = "http://127.0.0.1:%d/metrics" % self.http_port

        def scrape():
            with urllib.request.urlopen(base, timeout=10) as r:
                self.assertEqual(r.status, 200)
                text = r.read().decode()
            values = {}
            for line in text.splitlines():
                if line and not line.startswith("#"):
                    name, _, value = line.rpartition(" ")
                    values[name] = float(value)
            return text, values

        smtp_connections = 'salvo_server_connections_total{daemon="smtpd",listener="smtp"}'
        # start_salvo's readiness probe connected once already; the listener's
        # shard counts it when it takes the connection, which may come after
        # the API's shard answers a first scrape.
        probes = wait_for(lambda: scrape()[1].get(smtp_connections, 0), 30,
                          "the readiness probe's connection to be counted")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            c.ehlo("client.test")
            self.assertEqual(c.sendmail("app@sender.test", ["a@example.test", "b@example.test"],
                                        MESSAGE % (b"m1", b"m1")), {})
            self.assertEqual(c.sendmail("app@sender.test", ["c@example.test"],
                                        MESSAGE % (b"m2", b"m2")), {})
        wait_for(lambda: sum(len(m["rcpt_tos"]) for m in self.peer.messages()) >= 3, 30,
                 "three recipients at the remote MTA")

        def settled():
            # Outcomes are counted once recorded, and the session's connection
            # gauge drops when it has finished: both a moment after delivery.
            text, m = scrape()
            done = (m.get('salvo_delivery_recipients_total{outcome="delivered"}') == 3
                    and m.get("salvo_queue_recipients") == 0
                    and m.get('salvo_server_connections_open{daemon="smtpd",listener="smtp"}') == 0)
            return (text, m) if done else None

        text, m = wait_for(settled, 30, "delivery and queue metrics to settle")
        self.assertEqual(m['salvo_smtp_messages_accepted_total{listener="smtp"}'], 2)
        self.assertEqual(m['salvo_smtp_recipients_accepted_total{listener="smtp"}'], 3)
        self.assertEqual(m[smtp_connections], probes + 1)
        self.assertGreaterEqual(m["salvo_delivery_transactions_total"], 1)
        self.assertGreaterEqual(m['salvo_delivery_connections_total{result="opened"}'], 1)
        self.assertEqual(m["salvo_queue_recipients_in_flight"], 0)
        self.assertEqual(m["salvo_queue_messages"], 0)
        # Two accepts and three outcomes went through the group commit.
        self.assertGreaterEqual(m["salvo_spool_commit_requests_total"], 5)
        self.assertGreaterEqual(m["salvo_spool_commit_groups_total"], 1)
        self.assertLessEqual(m["salvo_spool_commit_groups_total"],
                             m["salvo_spool_commit_requests_total"])
        self.assertNotIn('outcome="failed"} 1', text)
        # The route's next hop is an address: no DNS question, but the
        # resolvers' series are there.
        self.assertIn("# TYPE salvo_dns_lookups_total counter", text)
        self.assertIn("salvo_dns_cache_entries 0", text)

    def test_http_message_submission_is_delivered(self):
        token = "e2e-token-0123456789"
        digest = hashlib.sha256(token.encode()).hexdigest()
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_salvo(extra='[api]\nkeys = ["sha256:%s"]\n' % digest)
        body = json.dumps({"from": "app@sender.test", "to": ["f@example.test"],
                           "subject": "via http", "text": "Hello over HTTP.\n"}).encode()
        url = "http://127.0.0.1:%d/v1/messages" % self.http_port
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, timeout=30) as r:
            self.assertEqual(r.status, 202)
            accepted = json.loads(r.read())
        self.assertEqual(len(accepted["recipients"]), 1)
        bad = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": "Bearer wrong"})
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(bad, timeout=30)
        self.assertEqual(e.exception.code, 401)
        got = wait_for(self.peer.messages, 30, "the HTTP-submitted message at the remote MTA")
        self.assertEqual(got[0]["rcpt_tos"], ["f@example.test"])
        self.assertIn("Subject: via http", got[0]["content"])
        self.assertIn("Hello over HTTP.", got[0]["content"])

    def test_deferred_mail_waits_for_its_retry_until_the_queue_is_flushed(self):
        # The remote MTA is down and the next attempt an hour away: the
        # operator sees the deferral in GET /v1/queue, brings the remote MTA
        # back and flushes the domain; the message goes at once.
        token = "e2e-token-0123456789"
        digest = hashlib.sha256(token.encode()).hexdigest()
        self.start_salvo(extra='[api]\nkeys = ["sha256:%s"]\n' % digest, retry="1h")
        status, accepted = api_call(self.http_port, token, "POST", "/v1/messages", {
            "from": "app@sender.test", "to": ["g@example.test"], "subject": "flush me",
            "text": "Deferred, then flushed.\n"})
        self.assertEqual(status, 202, accepted)

        def deferred():
            status, q = api_call(self.http_port, token, "GET", "/v1/queue")
            self.assertEqual(status, 200, q)
            for d in q["destinations"]:
                if d["domain"] == "example.test" and d["deferred"] == 1:
                    return d
            return None
        d = wait_for(deferred, 30, "the recipient deferred in GET /v1/queue")
        self.assertEqual(d["max_attempts"], 1)
        self.assertIsNotNone(d["next_attempt"])

        self.peer = Peer(self.workdir, self.peer_port)
        time.sleep(2)
        self.assertEqual(self.peer.messages(), [], "retried before its time")
        status, flushed = api_call(self.http_port, token, "POST", "/v1/queue/example.test/flush")
        self.assertEqual(status, 200, flushed)
        self.assertEqual(flushed, {"domain": "example.test", "rescheduled": 1})
        # Within the engine's 30 s unreachable hold of the site: the flush ends it too.
        got = wait_for(self.peer.messages, 20, "the flushed message at the remote MTA")
        self.assertEqual(got[0]["rcpt_tos"], ["g@example.test"])
        self.assertIn("Subject: flush me", got[0]["content"])
        wait_for(lambda: api_call(self.http_port, token, "GET", "/v1/queue")[1]["recipients"] == 0,
                 10, "an empty queue")

    def test_sighup_with_a_broken_config_keeps_serving(self):
        self.peer = Peer(self.workdir, self.peer_port)
        self.start_salvo()
        with open(self.salvo.config_path, "a") as f:
            f.write("\n[queue]\nno_such_key = 1\n")
        self.salvo.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in self.salvo.log_text(), 10, "the reload error")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            self.assertEqual(c.noop()[0], 250)
        self.assertEqual(self.salvo.stop(signal.SIGTERM), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
