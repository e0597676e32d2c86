#!/usr/bin/env bash
# The README's run command: installs what is missing (Debian 12, as root),
# builds Salvo and starts it in the foreground with its embedded default
# config: data under ./var/salvo, listeners on loopback ports (printed at
# start). Ctrl-C stops it cleanly. Extra arguments go to `salvo serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSALVO_PCH=ON >/dev/null
cmake --build build/release -j "${SALVO_JOBS:-2}" --target salvo
exec build/release/cmd/salvo serve "$@"
