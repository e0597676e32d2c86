#include "engine/config/default_config.h"

namespace salvo {

const std::string_view kDefaultConfigToml =
    R"toml(# Salvo configuration (the built-in default; `salvo default-config` prints it).
# Every key is optional; a key left out takes the value shown here.
# Reference: docs/operations.md. Check a file with `salvo check-config FILE`.
# Durations: "250ms", "5s", "10m", "2h", "5d", "1h30m". Rates: "10/s",
# "600/min", "1000/h". Sizes: bytes, or "512KiB", "10MiB", "10MB".

[server]
# hostname = "mta.example.com"  # default: this machine's host name
data_dir = "./var/salvo"        # relative to the working directory
shards = 0                      # worker threads; 0 = one per core
log_level = "info"              # trace, debug, info, warn, error, critical, off

[tls]
# cert_file = "./var/salvo/tls/cert.pem"  # default: <data_dir>/tls/cert.pem
# key_file = "./var/salvo/tls/key.pem"    # default: <data_dir>/tls/key.pem
self_signed = true  # generate a self-signed pair on first run when missing

# Listeners: loopback only, high ports. kind is one of smtp (relay for
# relay_networks and AUTH users, and MX of the [bounce] domains), bounce (MX
# of the [bounce] domains and FBL addresses only: never a relay, no AUTH),
# submission, smtps, http, pop3, pop3s, imap, imaps.
[[listener]]
name = "smtp"
kind = "smtp"
address = "127.0.0.1:2525"
tls = "starttls"
max_connections = 1000
max_line_length = 2048
max_message_size = "50MiB"
command_timeout = "5m"

[[listener]]
name = "submission"
kind = "submission"
address = "127.0.0.1:2587"
tls = "starttls"

[[listener]]
name = "smtps"
kind = "smtps"
address = "127.0.0.1:2465"
tls = "implicit"

[[listener]]
name = "http"
kind = "http"
address = "127.0.0.1:8025"
tls = "none"
max_line_length = 8192
max_message_size = "1GiB"
command_timeout = "60s"

[[listener]]
name = "bounce"
kind = "bounce"
address = "127.0.0.1:2526"
tls = "starttls"

[[listener]]
name = "pop3"
kind = "pop3"
address = "127.0.0.1:2110"
tls = "starttls"
command_timeout = "10m"

[[listener]]
name = "imap"
kind = "imap"
address = "127.0.0.1:2143"
tls = "starttls"
command_timeout = "30m"

[queue]
max_group_size = "8MiB"     # bytes of records in one group-committed write
max_pending_size = "256MiB" # writes waiting beyond this are refused (451 / 503)
min_free_space = "128MiB"   # accepts refused (452 / 507) below this much free disk
memtable_size = "128MiB"    # RocksDB memtables, all column families together
block_cache_size = "64MiB"  # RocksDB block cache
feedback_retention = "30d"  # how long a delivered campaign recipient's bounce still counts
retry_schedule = ["5m", "10m", "30m", "1h", "2h", "4h"]  # the last one repeats
retry_jitter = 0.1          # each wait is scaled by a random 1 +/- 0.1
max_age = "5d"              # then the recipient fails with a DSN
sync_wal = true             # fsync before acknowledging (never turn off in production)
outcome_sync_delay = "20ms" # delivery outcomes are fsynced within this; "0s": before done

[dns]
resolvers = []              # "ip:port" list; empty = /etc/resolv.conf
timeout = "5s"
tries = 3
cache_size = 100000
mx_port = 25

[delivery]
max_connections = 32
max_messages_per_connection = 100
max_recipients_per_transaction = 100
message_rate = "unlimited"
connection_rate = "unlimited"
connect_timeout = "30s"
greeting_timeout = "5m"
command_timeout = "5m"
data_timeout = "2m"
data_block_timeout = "3m"
data_done_timeout = "10m"
idle_timeout = "10s"
pipeline_messages = true    # next message's MAIL/RCPT/DATA with the previous "."
tls = "opportunistic"       # off, opportunistic, required
source_pool = ""            # "" = the kernel picks the source address

# Per-destination rules override [delivery]; the first match wins.
# [[delivery.destination]]
# pattern = "*.google.com"
# match = "mx"              # "domain" (default) or "mx"
# max_connections = 20
# message_rate = "600/min"
# tls = "required"
# source_pool = "bulk"

# [[source_pool]]
# name = "bulk"
# [[source_pool.source]]
# address = "192.0.2.10"
# ehlo = "mta1.example.com"
# weight = 1

# [[route]]
# domain = "example.test"
# next_hop = "127.0.0.1:2526"

[smtp]
# Inbound SMTP policy for the smtp, submission and smtps listeners. Relaying
# needs AUTH or a client inside relay_networks: Salvo is never an open relay.
relay_networks = ["127.0.0.0/8", "::1/128"]
allow_plaintext_auth = false  # AUTH before STARTTLS (loopback clients only)
cram_md5 = false              # needs each user's cram_md5_secret (stored recoverably)
bare_newline = "reject"       # reject or normalize a bare LF in DATA
suppressed = "reject"         # RCPT of a suppressed address: reject (550) or accept
max_recipients = 1000
max_errors = 20
max_connections_per_client = 50
max_auth_failures = 10
auth_failure_window = "15m"

# Users allowed to AUTH (PLAIN, LOGIN; CRAM-MD5 when enabled above).
# [[user]]
# name = "app"
# password_hash = "pbkdf2-sha256$600000$..."   # salvo hash-password
# cram_md5_secret = ""

[api]
keys = []   # "sha256:<hex>" of each bearer token: printf %s TOKEN | sha256sum
# public_url = "https://mta.example.com"  # List-Unsubscribe links point here

[bounce]
domains = []          # e.g. ["bounces.example.com"]: VERP return paths use the first
fbl_addresses = []    # e.g. ["fbl@bounces.example.com"]: ARF complaints arrive here
# verp_secret_file = "./var/salvo/verp.key"  # default: <data_dir>/verp.key
# rules_file = "/etc/salvo/bounce-rules.txt" # "<reason> <phrase>" lines, tried first
soft_bounce_limit = 5       # soft bounces within the window before suppression
soft_bounce_window = "7d"
max_parse_size = "10MiB"    # larger bounces are stored unparsed (Unparsed folder)

[mailbox]
# POP3/IMAP access to the bounce mailbox for the [[user]] accounts.
allow_plaintext_auth = false  # login before TLS: loopback clients only
pop3_folder = "INBOX"         # what POP3 serves (INBOX holds every bounce)
pop3_keep_messages = false    # true: DELE marks a message processed (Seen, Deleted) instead of erasing it
max_connections_per_client = 20
max_auth_failures = 10

# DKIM signing by From domain; nothing is signed without a [[dkim.key]].
[dkim]
canonicalization = "relaxed/relaxed"
sign_subdomains = true
signing_threads = 2
backlog_wait = "2ms"               # shards wake less often while signing is backlogged; 0s: off
expire_after = "0s"                # x= after this; 0s: none
missing_key = "send-unsigned"      # or "defer"
campaign_checks = "warn"           # "off", "warn" or "error" at campaign submission
# Keys: salvo dkim keygen --domain example.com --selector s1 --out DIR
# [[dkim.key]]
# domain = "example.com"
# selector = "s1"
# key_file = "/etc/salvo/dkim/example.com.s1.pem"
# algorithm = "rsa-sha256"         # or "ed25519-sha256"; two keys: dual signing
)toml";

}  // namespace salvo
