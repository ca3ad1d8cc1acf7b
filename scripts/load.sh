#!/usr/bin/env bash
# What authentication costs on a real server: the demo's PUT /rule route (bare, static guard,
# cached, managed access, managed and cached) served by axum on 127.0.0.1 and driven by wrk,
# in interleaved passes; prints requests/s, the server's CPU time per request and the
# authentication's share of it (see benches/server.rs and BENCHMARKS.md).
#
#   scripts/load.sh                                   # 5 s per run, 32 connections, 3 passes
#   LOAD_SECONDS=10 LOAD_CONNECTIONS=16 LOAD_PASSES=5 scripts/load.sh
#
# Bounded: each run lasts LOAD_SECONDS (at most 60) under a hard timeout, connections are
# capped at 256, passes at 9; every server stops with the bench. Loopback only.
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

exec timeout 1800 cargo bench --features managed --bench server
