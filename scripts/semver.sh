#!/usr/bin/env bash
# Fails when the working tree breaks the public API of the last released version in a way its
# version number does not allow: cargo-semver-checks compares the rustdoc of both, every feature
# that adds API on, against the rules of semver (in 0.y.z, a new y may break, a new z may not).
# `aws-lc-rs` is left out: it swaps the RSA backend and adds no API, and its C library takes
# minutes to build.
#
# The last released version is the nearest tag `vX.Y.Z` (or `X.Y.Z`) behind HEAD. Without one
# there is nothing to compare against: the check says so and passes without installing
# anything (installing cargo-semver-checks takes about 13 minutes on a 2-core machine).
#
# Usage: scripts/semver.sh            (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: each cargo-semver-checks release reads the rustdoc JSON of a range of toolchains;
# move it with the toolchain. Built without LTO and with parallel codegen: the same checks,
# built in less time than its own release profile takes.
SEMVER_CHECKS_VERSION=0.51.0

baseline=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' \
  --match '[0-9]*.[0-9]*.[0-9]*' HEAD 2>/dev/null || true)
if [[ -z $baseline ]]; then
  echo "semver: no release tag (vX.Y.Z) behind HEAD, nothing to compare against: skipped"
  exit 0
fi

installed=$(cargo semver-checks --version 2>/dev/null || true)
if [[ $installed != "cargo-semver-checks $SEMVER_CHECKS_VERSION" ]]; then
  echo "semver: installing cargo-semver-checks $SEMVER_CHECKS_VERSION"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --quiet --locked cargo-semver-checks --version "$SEMVER_CHECKS_VERSION"
fi

echo "semver: checking the working tree against $baseline"
cargo semver-checks check-release --baseline-rev "$baseline" \
  --only-explicit-features --features axum,client,client-rustls,managed
