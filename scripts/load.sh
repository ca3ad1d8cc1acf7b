#!/usr/bin/env bash
# What authentication costs on a real server: the demo's PUT /rule route (bare, static guard,
# cached, managed access, managed and cached) served by axum on 127.0.0.1 and driven by wrk
# (see benches/server.rs and BENCHMARKS.md).
#
# 1. Timing: every variant in turn, in interleaved passes; requests/s, the server's CPU time per
#    request, and the authentication's share of it.
# 2. Instructions (skipped with LOAD_INSTRUCTIONS=0, or without valgrind): each variant alone
#    under callgrind, one connection; the server's instructions per request (user space,
#    exact where CPU times on shared cores are not) and the authentication's share of them.
#
#   scripts/load.sh                                   # 5 s per run, 32 connections, 3 passes
#   LOAD_SECONDS=10 LOAD_CONNECTIONS=16 LOAD_PASSES=5 scripts/load.sh
#   LOAD_COUNT_SECONDS=5 (instruction-count window per variant)
#
# Bounded: each run lasts LOAD_SECONDS (at most 60) under a hard timeout, connections are
# capped at 256, passes at 9; every server stops by itself (after the timing bench, or after
# LOAD_SERVE_SECONDS under callgrind) and is stopped on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk is needed: apt-get install wrk" >&2
    exit 2
  fi
fi

timeout 1800 cargo bench --features managed --bench server

if [ "${LOAD_INSTRUCTIONS:-1}" = 0 ] || ! command -v valgrind >/dev/null 2>&1; then
  exit 0
fi
bin=$(cargo bench --features managed --bench server --no-run 2>&1 |
  sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
seconds=${LOAD_COUNT_SECONDS:-5}
seconds=$((seconds > 30 ? 30 : seconds))
work=$(mktemp -d)
server=
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
trap 'stop; rm -rf "$work"' EXIT

echo
echo "== server: instructions per request (callgrind, user space, wrk -t1 -c1 -d${seconds}s) =="
bare=
for variant in bare pass_through static cached managed managed_cached; do
  (LOAD_SERVE=$variant LOAD_SERVE_SECONDS=300 exec valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$work/$variant" "$bin" --bench >"$work/$variant.log" 2>/dev/null) &
  server=$!
  for _ in $(seq 240); do
    grep -q '^serving' "$work/$variant.log" && break
    kill -0 "$server" 2>/dev/null || { echo "$variant: the server did not start" >&2; exit 1; }
    sleep 0.5
  done
  read -r _ _ _ address path _ script <"$work/$variant.log"
  url="http://$address$path"
  timeout 60 wrk -t1 -c1 -d2s -s "$script" "$url" >/dev/null # warm-up, not counted
  callgrind_control -i on "$server" >/dev/null 2>&1
  out=$(timeout $((seconds + 60)) wrk -t1 -c1 -d"${seconds}s" -s "$script" "$url")
  callgrind_control -i off "$server" >/dev/null 2>&1
  callgrind_control -d "$server" >/dev/null 2>&1
  stop
  if grep -q 'Non-2xx' <<<"$out"; then echo "$variant: some answers were not 2xx" >&2; exit 1; fi
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  instructions=$(callgrind_annotate "$work/$variant.1" 2>/dev/null |
    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  per_request=$((instructions / requests))
  if [ -z "$bare" ]; then
    bare=$per_request
    printf '%-16s %10d instructions/request (%d requests)\n' "$variant" "$per_request" "$requests"
  else
    awk -v v="$variant" -v n="$per_request" -v b="$bare" -v r="$requests" 'BEGIN {
      printf "%-16s %10d instructions/request (%d requests)   authentication %+7d = %+5.1f %%\n", v, n, r, n - b, 100 * (n - b) / n
    }'
  fi
done
