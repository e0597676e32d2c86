#!/usr/bin/env bash
# Installs every Debian package that building, running and testing Salvo need.
# Idempotent and noninteractive; run as root on Debian 12. Nothing is downloaded
# outside Debian's archive.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config g++ clang-format
  # libraries (DESIGN.md "Fixed choices")
  liburing-dev librocksdb-dev libc-ares-dev libabsl-dev libssl-dev
  libtomlplusplus-dev libsimdjson-dev nlohmann-json3-dev libboost-dev
  libgmime-3.0-dev libkainjow-mustache-dev libopendkim-dev libspdlog-dev
  libfmt-dev libidn2-dev
  # tests and benches
  libgtest-dev libgmock-dev libbenchmark-dev
  dnsmasq-base postfix python3-aiosmtpd swaks python3-dkim curl openssl
  libnet-ssleay-perl  # swaks --tls (smtp server tests)
  iproute2 procps util-linux
  python3-prometheus-client  # tests/api: an independent parser of /metrics
  fetchmail  # tests/pop3: a full POP3 client against the server
  isync  # tests/imap: mbsync, a full IMAP client syncing the mailbox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deploy: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "deploy: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

echo "deploy: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix is installed only for its smtp-sink/smtp-source tools: no mail config.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deploy: done"
