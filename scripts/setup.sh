#!/usr/bin/env bash
# Installs what onair needs on a fresh Debian/Ubuntu machine:
#   - FFmpeg, srt-tools (and, with --test, Chromium, nginx-light and wrk for the edge tests and the
#     bench) from the distribution's packages, when missing
#   - npm dependencies, including Node 24 LTS (the `node` package) that the npm scripts run on
#   - the web UI build
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
for arg in "$@"; do
  case "$arg" in
    --test) with_browser=1 ;;
    *) echo "setup: unknown option $arg (use --test to also install Chromium, nginx and wrk for the tests)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }

missing=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
# SRT ingest listens with srt-live-transmit, the SRT project's own tool.
command -v srt-live-transmit >/dev/null 2>&1 || missing+=(srt-tools)
if [ "$with_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
# The edge tests and the bench run Debian's nginx in front of onair, and load it with wrk.
if [ "$with_browser" = 1 ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then missing+=(nginx-light); fi
if [ "$with_browser" = 1 ] && ! command -v wrk >/dev/null 2>&1; then missing+=(wrk); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: onair needs ${missing[*]}. Install it with: sudo apt-get install -y ${missing[*]}" >&2
    echo "       (then run this command again)" >&2
    exit 1
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm is missing. Install Node.js (any version >= 18 with npm) to bootstrap: sudo apt-get install -y nodejs npm" >&2
  exit 1
fi

# The `node` package (its preinstall is approved in package.json allowScripts) provides
# node_modules/.bin/node, Node 24 LTS, which npm scripts run on.
# `npm install` rather than `npm ci`: it installs the locked versions too, but tolerates
# registries that lack other platforms' optional binaries (e.g. @next/swc-darwin-*),
# where `npm ci` refuses the lock file.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (with Node 24 LTS)"
  npm install --no-audit --no-fund --loglevel=error
fi
node_version="$(node_modules/.bin/node --version)"
case "$node_version" in
  v2[4-9]*|v[3-9][0-9]*) ;;
  *) echo "setup: expected Node >= 24 in node_modules/.bin/node, found $node_version" >&2; exit 1 ;;
esac

say "building the web UI"
npm run --silent build >/dev/null
say "ready (node $node_version, $(ffmpeg -hide_banner -version | head -1 | cut -d' ' -f1-3))"
