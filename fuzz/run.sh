#!/usr/bin/env bash
# Runs the fuzz targets for a bounded time each, on the stable toolchain.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# cargo-fuzz builds with nightly-only flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the
# stable compiler accept them. New corpus entries go to fuzz/corpus/<target> (not committed);
# the committed seeds are read from fuzz/seeds/<target>; the `claims` target also starts from the
# conformance suite's claims sets (tests/fixtures/claims_corpus.txt) and a JSON dictionary
# (claims.dict). Exits non-zero on the first crash or difference, leaving the input in
# fuzz/artifacts/<target>/. An input that runs past 10 s (a hang), makes one allocation past
# 64 MiB or grows the process past 2 GiB is a crash too.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-15}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(bearer signed admin claims)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  options=()
  if [ "$target" = claims ]; then
    # One file per claims set of the conformance corpus (standard base64, one per line).
    n=0
    while IFS= read -r line; do
      case "$line" in '' | '#'*) continue ;; esac
      printf '%s' "$line" | base64 -d >"corpus/claims/conformance-$n"
      n=$((n + 1))
    done <../tests/fixtures/claims_corpus.txt
    options+=(-dict=claims.dict)
  fi
  echo "fuzzing $target for ${seconds}s"
  log="$(mktemp)"
  if ! cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -malloc_limit_mb=64 -rss_limit_mb=2048 "${options[@]}" >"$log" 2>&1; then
    tail -n 80 "$log"
    echo "fuzz target $target failed: see the input saved in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log"
  rm -f "$log"
done
