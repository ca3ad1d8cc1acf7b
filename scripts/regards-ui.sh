#!/usr/bin/env bash
# REGARDS' own admin web client (RegardsOss/regards-frontend 2.0.0) against the demo stack:
# installs the client, builds and starts the demo, serves the client with webpack, and drives it
# in headless Chromium (scripts/regards-ui-flow.cjs): log in as admin@regards.fr on project1,
# create NOTIFIER_OPERATOR, switch rs-notifier's PUT /rule on for it (curl: 200 with the
# operator's token), list who may call it, switch it off (curl: 403). Fails on any console
# error, page error, failed request or refused call but the few the flow lists and explains.
# Screenshots go to docs/ui/ (shown in the README).
#
# Needs: git, curl, node >= 20 with npm, Debian's chromium, cargo. Not part of .ci/run: a cold
# run takes 10 to 15 minutes on two busy cores (see the README).
#
# Environment (all optional):
#   REGARDS_UI_CACHE     where the client, its node_modules (~750 MB) and the tools go
#                        (default: ~/.cache/regards-ui; never inside the repository)
#   REGARDS_FRONTEND_GIT a clone (bare or not) of RegardsOss/regards-frontend holding
#                        FRONTEND_COMMIT (default: cloned into the cache)
#   REGARDS_UI_DEMO_ADDR where the demo listens (default 127.0.0.1:18080)
#   REGARDS_UI_PORT      where webpack serves the client on 127.0.0.1 (default 3333)
#   REGARDS_CHROMIUM     the Chromium binary (default: chromium on the PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

# What is pinned, and why (README, "REGARDS' admin web client against the demo").
FRONTEND_COMMIT=2f56beeccf1d933a0b4bb1d6e019e2f02eca3986 # 2.0.0 and one fix
YARN_VERSION=1.22.19          # the client's "packageManager"
PLAYWRIGHT_CORE_VERSION=1.65.2 # drives the system Chromium; downloads no browser
# The client pins neither (no yarn.lock): their newest releases need Node 22 and React 18.
CESIUM_RANGE='~1.107.2'
RESIUM_VERSION='1.17.1'

cache=${REGARDS_UI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/regards-ui}
demo_addr=${REGARDS_UI_DEMO_ADDR:-127.0.0.1:18080}
ui_port=${REGARDS_UI_PORT:-3333}
chromium=${REGARDS_CHROMIUM:-$(command -v chromium || true)}
shots=$repo/docs/ui
webapp=$cache/frontend/webapp
logs=$cache/logs

# Bounds of every wait.
INSTALL_TIMEOUT=1800
COMPILE_TIMEOUT=900
DEMO_TIMEOUT=600
FLOW_TIMEOUT=600

say() { printf '%s\n' "regards-ui: $*"; }
die() { say "$*" >&2; exit 1; }

for tool in git curl node npm cargo; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
[[ -x $chromium ]] || die "Chromium is missing (apt-get install chromium, or set REGARDS_CHROMIUM)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node 20 or later is needed (found $(node --version))"
[[ $cache != "$repo"* ]] || die "REGARDS_UI_CACHE must be outside the repository"
mkdir -p "$cache" "$logs" "$shots"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    # Each server was started in its own process group: stop it with everything it started.
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT

# Waits until `check` succeeds, at most `timeout` seconds; fails when `pid` dies first.
wait_for() {
  local what=$1 timeout=$2 pid=$3 log=$4
  shift 4
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "$what: the process stopped"; }
    ((SECONDS < deadline)) || { tail -n 30 "$log" >&2; die "$what: not ready after ${timeout}s"; }
    sleep 2
  done
}

# ---- the client's sources and tools -------------------------------------------------------
started=$SECONDS
git_dir=${REGARDS_FRONTEND_GIT:-$cache/regards-frontend.git}
if ! git -C "$git_dir" cat-file -e "$FRONTEND_COMMIT^{commit}" 2>/dev/null; then
  [[ -z ${REGARDS_FRONTEND_GIT:-} ]] || die "$git_dir does not hold $FRONTEND_COMMIT"
  say "cloning regards-frontend into $git_dir"
  git clone --bare --filter=blob:none https://github.com/RegardsOss/regards-frontend.git "$git_dir"
fi
stamp=$cache/frontend/.commit
if [[ ! -f $stamp || $(cat "$stamp") != "$FRONTEND_COMMIT" ]]; then
  say "extracting webapp/ at $FRONTEND_COMMIT"
  rm -rf "$cache/frontend"
  mkdir -p "$cache/frontend"
  # webapp/mocks/json is left out: the client does not need it (and one of its files is
  # missing from some mirrors).
  git -C "$git_dir" archive --format=tar "$FRONTEND_COMMIT" -- webapp ':(exclude)webapp/mocks/json' |
    tar -x -C "$cache/frontend"
  CESIUM_RANGE=$CESIUM_RANGE RESIUM_VERSION=$RESIUM_VERSION node -e '
    const fs = require("fs")
    const file = process.argv[1]
    const manifest = JSON.parse(fs.readFileSync(file, "utf8"))
    manifest.resolutions = { ...manifest.resolutions,
      cesium: process.env.CESIUM_RANGE, resium: process.env.RESIUM_VERSION }
    fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n")' "$webapp/package.json"
  echo "$FRONTEND_COMMIT" >"$stamp"
fi
tools=$cache/tools
if [[ ! -x $tools/node_modules/.bin/yarn ]] ||
  [[ $(node -p "require('$tools/node_modules/playwright-core/package.json').version" 2>/dev/null) != "$PLAYWRIGHT_CORE_VERSION" ]]; then
  say "installing yarn $YARN_VERSION and playwright-core $PLAYWRIGHT_CORE_VERSION into $tools"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$tools" --no-audit --no-fund --silent \
    "yarn@$YARN_VERSION" "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi
export PATH=$tools/node_modules/.bin:$PATH
# webpack 5.45 hashes with MD4, which Node 17+ keeps in OpenSSL's legacy provider.
export NODE_OPTIONS=--openssl-legacy-provider
if [[ ! -f $webapp/node_modules/.yarn-integrity || ! -f $webapp/dist/dev/core.bundle.js ]]; then
  say "yarn install (cold: several minutes; it ends with the client's DLL build)"
  (
    cd "$webapp"
    # No browser downloads (there is no network for them): Debian's Chromium is used.
    PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
      YARN_CACHE_FOLDER=$cache/yarn-cache \
      timeout "$INSTALL_TIMEOUT" yarn install --ignore-engines --non-interactive \
      --network-timeout 600000 >"$logs/install.log" 2>&1
  ) || { tail -n 30 "$logs/install.log" >&2; die "yarn install failed (log: $logs/install.log)"; }
  # The yarn cache is only needed again for a reinstall.
  rm -rf "$cache/yarn-cache"
fi
install_seconds=$((SECONDS - started))

# ---- the demo -------------------------------------------------------------------------------
started=$SECONDS
say "building and starting the demo on $demo_addr"
cargo build --quiet --example regards_demo
REGARDS_DEMO_ADDR=$demo_addr setsid "$repo/target/debug/examples/regards_demo" >"$logs/demo.log" 2>&1 &
pids+=($!)
api=http://$demo_addr
project_served() {
  curl -fs -o /dev/null --max-time 5 -H 'scope: project1' \
    "$api/api/v1/rs-admin-instance-public/projects/project1"
}
wait_for "the demo" "$DEMO_TIMEOUT" "${pids[-1]}" "$logs/demo.log" project_served
demo_seconds=$((SECONDS - started))

# ---- the client, served by webpack --------------------------------------------------------
started=$SECONDS
say "compiling and serving the client on 127.0.0.1:$ui_port (the gateway compiled in: $api)"
(
  cd "$webapp"
  # Straight to webpack: `yarn start` would run eslint --fix over the sources first.
  npm_config_rsgateway=$api exec setsid node node_modules/.bin/webpack serve \
    --config webpack.dev.local.config.js --host 127.0.0.1 --port "$ui_port" --no-client-overlay
) >"$logs/webpack.log" 2>&1 &
pids+=($!)
compiled() {
  # webpack colours its words whatever it is told: `compiled \e[1m\e[32msuccessfully...`.
  local said
  said=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/webpack.log")
  if grep -Eq 'compiled with [0-9]+ errors?' <<<"$said"; then
    die "webpack failed (log: $logs/webpack.log)"
  fi
  grep -q 'compiled successfully' <<<"$said"
}
wait_for "webpack" "$COMPILE_TIMEOUT" "${pids[-1]}" "$logs/webpack.log" compiled
compile_seconds=$((SECONDS - started))

# ---- the flow -------------------------------------------------------------------------------
started=$SECONDS
say "driving the client in $chromium"
UI_URL=http://127.0.0.1:$ui_port API_URL=$api SHOT_DIR=$shots CHROMIUM=$chromium \
  NODE_PATH=$tools/node_modules timeout "$FLOW_TIMEOUT" node "$repo/scripts/regards-ui-flow.cjs"
flow_seconds=$((SECONDS - started))

say "install ${install_seconds}s, demo build and start ${demo_seconds}s, webpack compile ${compile_seconds}s, flow ${flow_seconds}s"
say "screenshots in $shots"
