#!/usr/bin/env bash
# Instructions per operation of benchmark cases, counted by callgrind (exact and repeatable,
# where times are not): each case runs 2,000 then 12,000 times under valgrind, and the
# difference divided by 10,000 cancels start-up and warm-up.
#
#   scripts/instructions.sh layer layer/bare layer/hs512_valid floor/hmac_sha512_prekeyed
#   scripts/instructions.sh cache cache/hit_whole
#
# The first argument names the bench (benches/<name>.rs, built with its required features,
# or FEATURES); then the cases, as the bench names them. Needs valgrind (apt-get install
# valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=$1
shift
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }
features=${FEATURES:-}
case "$bench" in
  managed | server) features=${features:-managed} ;;
  client) features=${features:-client} ;;
esac
bin=$(cargo bench ${features:+--features "$features"} --bench "$bench" --no-run 2>&1 |
  sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
[ -x "$bin" ] || { echo "no executable for bench $bench" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for case in "$@"; do
  for iterations in 2000 12000; do
    BENCH_PROFILE=$case BENCH_PROFILE_ITERS=$iterations timeout 900 valgrind --tool=callgrind \
      --callgrind-out-file="$out/$iterations" --toggle-collect='*common::run_by_pass*' \
      "$bin" --bench >/dev/null 2>&1
  done
  total() { callgrind_annotate "$out/$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }
  printf '%-40s %8d\n' "$case" $((($(total 12000) - $(total 2000)) / 10000))
done
