"""A private Postfix instance for end-to-end tests (Debian's postfix package).

Everything lives under one temporary directory: config_directory (main.cf,
master.cf, the transport table), queue_directory, data_directory and the
log file (written by postlogd: this machine has no syslog). It listens on
127.0.0.1 only, on a port the test chooses, never touches DNS (bracketed
next hops, smtp_dns_support_level = disabled) and never delivers locally
(mydestination is empty). The system instance in /etc/postfix is neither
read nor changed: every command gets `-c <config_directory>`.

`postfix start` needs root (the master drops to the postfix user per
service); `available()` says whether this machine can run one, so a test
can skip instead of failing where Postfix is missing.

Use:
    pf = PrivatePostfix(workdir, port, relay_domains=["bouncy.test"],
                        transports={"bouncy.test": "smtp:[127.0.0.1]:2526",
                                    "full@bouncy.test": "error:5.2.2 mailbox full"})
    pf.start()
    try: ...
    finally: pf.stop()
"""
import os
import shutil
import signal
import socket
import subprocess
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
MASTER_CF_DIST = "/usr/share/postfix/master.cf.dist"


def available():
    """Root, Debian's postfix binaries and the stock master.cf template."""
    return (os.geteuid() == 0 and os.access(POSTFIX, os.X_OK) and
            os.access(POSTCONF, os.X_OK) and os.path.exists(MASTER_CF_DIST))


def _can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivatePostfix:
    def __init__(self, workdir, port, relay_domains, transports,
                 hostname="mx.postfix-dsn.test"):
        # The directory must be traversable by the postfix user (the log
        # daemon and the queue's owner run as it).
        self.root = os.path.join(workdir, "postfix")
        self.config_dir = os.path.join(self.root, "etc")
        self.queue_dir = os.path.join(self.root, "spool")
        self.data_dir = os.path.join(self.root, "lib")
        self.log_path = os.path.join(self.root, "postfix.log")
        self.port = port
        self.hostname = hostname
        self.relay_domains = list(relay_domains)
        self.transports = dict(transports)
        self.started = False
        for d in (self.root, self.config_dir, self.queue_dir, self.data_dir):
            os.makedirs(d, exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.root, 0o755)
        # The master's lock file and the caches are written as the postfix user.
        shutil.chown(self.data_dir, "postfix", "postfix")

    # ---- configuration ----

    def _main_cf(self):
        return "\n".join([
            "# written by tests/e2e/private_postfix.py for one test run",
            "compatibility_level = 3.6",
            "queue_directory = %s" % self.queue_dir,
            "data_directory = %s" % self.data_dir,
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "syslog_name = postfix-salvo-e2e",
            "maillog_file = %s" % self.log_path,
            "maillog_file_prefixes = %s" % self.root,
            "myhostname = %s" % self.hostname,
            "mydomain = postfix-dsn.test",
            "myorigin = $myhostname",
            "biff = no",
            "append_dot_mydomain = no",
            # Loopback, IPv4, no DNS anywhere.
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "smtpd_peername_lookup = no",
            "smtp_dns_support_level = disabled",
            "smtp_host_lookup = native",
            # Nothing is local; only the test domains are relayed.
            "mydestination =",
            "local_recipient_maps =",
            "local_transport = error:5.1.1 local delivery disabled",
            "alias_maps =",
            "alias_database =",
            "relay_domains = %s" % ", ".join(self.relay_domains),
            "relay_recipient_maps =",
            # Accept what the transport table sends to error(8): the failure
            # then happens after the accept, and Postfix writes the DSN.
            "smtpd_reject_unlisted_recipient = no",
            "transport_maps = texthash:%s" % os.path.join(self.config_dir, "transport"),
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            "smtpd_recipient_restrictions = permit_mynetworks, reject",
            "smtpd_tls_security_level = none",
            "smtp_tls_security_level = none",
            # Seconds, not minutes: retry and bounce at once, no delay warnings.
            "queue_run_delay = 1s",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
            "delay_warning_time = 0",
            "smtp_connect_timeout = 5s",
            "smtp_helo_timeout = 10s",
            "in_flow_delay = 0",
            "",
        ])

    def _write_config(self):
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write(self._main_cf())
        with open(os.path.join(self.config_dir, "transport"), "w") as f:
            for key, value in self.transports.items():
                f.write("%s %s\n" % (key, value))
        # Debian's stock master.cf, minus the :25 listener, plus ours; no
        # chroot (it would need copies of /etc files in the spool).
        shutil.copy(MASTER_CF_DIST, os.path.join(self.config_dir, "master.cf"))
        service = "127.0.0.1:%d" % self.port
        self._postconf("-MX", "smtp/inet")
        self._postconf("-M", "%s/inet=%s inet n - n - - smtpd" % (service, service))
        self._postconf("-F", "*/*/chroot = n")

    def _postconf(self, *args):
        subprocess.run([POSTCONF, "-c", self.config_dir, *args], check=True,
                       capture_output=True, text=True, timeout=30)

    def _postfix(self, *args, timeout=60):
        return subprocess.run([POSTFIX, "-c", self.config_dir, *args],
                              capture_output=True, text=True, timeout=timeout)

    # ---- life cycle ----

    def start(self, timeout=30):
        self._write_config()
        with open(self.log_path, "a"):
            pass
        started = self._postfix("start")
        if started.returncode != 0:
            raise AssertionError("postfix start failed:\n%s%s\n%s" % (
                started.stdout, started.stderr, self.log_text()))
        self.started = True
        deadline = time.time() + timeout
        while not _can_connect(self.port):
            if time.time() > deadline:
                raise AssertionError("postfix not listening on %d:\n%s" % (
                    self.port, self.log_text()))
            time.sleep(0.1)

    def master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self, timeout=15):
        """Stops the instance; SIGKILLs its master if it lingers. Idempotent."""
        if not self.started:
            return
        pid = self.master_pid()
        try:
            self._postfix("stop", timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.time() + timeout
        while pid and _alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.started = False

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
