#!/bin/sh
# Runs ADL's cmi5 LMS test suite against a fresh `lms serve` on 127.0.0.1.
#   tests/cmi5-lts/run.sh /path/to/CATAPULT/lts [extra jest arguments, e.g. -t '001-essentials']
# Needs: the suite prepared as README.md says, a built `lms` (target/debug/lms unless LMS_BIN),
# and Chromium at /usr/bin/chromium (PUPPETEER_EXECUTABLE_PATH to change).
set -eu
LTS_DIR=$(cd "${1:?usage: run.sh /path/to/CATAPULT/lts [jest args]}" && pwd)
shift
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LMS_BIN=${LMS_BIN:-$ROOT/target/debug/lms}
PORT=${LMS_LTS_PORT:-18480}
DATA=$(mktemp -d)
export LMS_ADMIN_TOKEN="lts-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export LMS_LRS_BASIC="lts-reader:$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export LMS_URL="http://127.0.0.1:$PORT"
LMS_LOG=${LMS_LOG:-warn} "$LMS_BIN" serve --data "$DATA" --bind "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT INT TERM
for _ in $(seq 1 100); do
    if curl -fs "$LMS_URL/healthz" >/dev/null 2>&1; then break; fi
    sleep 0.1
done
cd "$LTS_DIR"
status=0
JEST_PUPPETEER_CONFIG=${JEST_PUPPETEER_CONFIG:-$HERE/jest-puppeteer.config.js} \
CI=true PUPPETEER_EXECUTABLE_PATH=${PUPPETEER_EXECUTABLE_PATH:-/usr/bin/chromium} CATAPULT_LMS="$HERE/adapter.js" \
    CATAPULT_LTS_DIR="$LTS_DIR" npx jest --testTimeout=20000 "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 40 lines) ---"
    tail -n 40 "$DATA/server.log"
fi
exit "$status"
