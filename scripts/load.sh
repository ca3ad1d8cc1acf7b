#!/usr/bin/env bash
# Load test of the demo REGARDS stack on loopback, with wrk: an unprotected route against
# protected ones, the same number of connections for the same time each. Bounded in time
# (DURATION per run, and a hard timeout around every step); stops the server when done.
#
#   scripts/load.sh                       # 10 s per run, 32 connections, 2 wrk threads
#   DURATION=5s CONNECTIONS=16 scripts/load.sh
#
# Runs, each against the demo stack of `cargo run --release --example regards_demo`:
#   public     GET /api/v1/rs-catalog/engines/legacy/entities/search, no token, `scope: project1`
#              (served as the PUBLIC user: the layer runs but verifies nothing)
#   search+jwt the same route with a valid HS512 token (the cost of verification alone)
#   myuser+jwt GET /api/v1/rs-admin/users/myuser with the token (REGISTERED_USER route)
# and prints requests/s of each and their ratios to the public run.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
ADDR=${ADDR:-127.0.0.1:18080}
case "$ADDR" in
  127.*|localhost:*) ;;
  *) echo "ADDR must be a loopback address (127.0.0.0/8): $ADDR" >&2; exit 2 ;;
esac
HOST="http://$ADDR"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk is needed: apt-get install wrk" >&2
    exit 2
  fi
fi
command -v curl >/dev/null 2>&1 || { echo "curl is needed: apt-get install curl" >&2; exit 2; }

timeout 900 cargo build --release --quiet --example regards_demo
REGARDS_DEMO_ADDR="$ADDR" RUST_LOG=warn target/release/examples/regards_demo >/dev/null 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 1 "$HOST/" && break
  kill -0 "$SERVER" 2>/dev/null || { echo "the demo stack did not start" >&2; exit 1; }
  sleep 0.1
done

TOKEN=$(curl -s --max-time 5 -X POST \
  "$HOST/api/v1/rs-authentication/oauth/token?grant_type=password&scope=project1&username=admin@regards.fr&password=admin" \
  -H 'Authorization: Basic Y2xpZW50OnNlY3JldA==' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
[ -n "$TOKEN" ] || { echo "no token from the token endpoint" >&2; exit 1; }

SEARCH="$HOST/api/v1/rs-catalog/engines/legacy/entities/search"
MYUSER="$HOST/api/v1/rs-admin/users/myuser"
# Each run must answer 200 before it is measured.
check() {
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@")
  [ "$status" = 200 ] || { echo "expected 200, got $status for $*" >&2; exit 1; }
}
check -H 'scope: project1' "$SEARCH"
check -H "Authorization: Bearer $TOKEN" "$SEARCH"
check -H "Authorization: Bearer $TOKEN" "$MYUSER"

run() {
  local name=$1; shift
  local out
  out=$(timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "$name: some answers were not 2xx:" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-12s %12s req/s   p50 %-9s p99 %s\n' "$name" "$rps" "$p50" "$p99" >&2
  echo "$rps"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION against $HOST ($(nproc) cores shared by server and client)" >&2
PUBLIC=$(run public -H 'scope: project1' "$SEARCH")
SEARCH_JWT=$(run search+jwt -H "Authorization: Bearer $TOKEN" "$SEARCH")
MYUSER_JWT=$(run myuser+jwt -H "Authorization: Bearer $TOKEN" "$MYUSER")

awk -v p="$PUBLIC" -v s="$SEARCH_JWT" -v m="$MYUSER_JWT" 'BEGIN {
  printf "ratio search+jwt / public: %.3f\n", s / p
  printf "ratio myuser+jwt / public: %.3f\n", m / p
}'
