#!/usr/bin/env bash
# Installs mediasoup, the SFU that ONAIR_SFU=auto (the default) prefers, where it can run.
#
# mediasoup is an optional dependency: its installer downloads a prebuilt worker, or builds one
# from sources it downloads, and npm drops the package when neither works. npm also skips it
# silently when the Node that npm runs on is older than mediasoup's `engines` (22): Debian 12 and
# Ubuntu 24.04 ship 18, so this runs npm again with the bundled Node 24 first on PATH.
#
# MEDIASOUP_WORKER_BIN=/path/to/mediasoup-worker: use that worker (mediasoup's installer then
# downloads and builds nothing); it is linked into the package, where `auto` finds it with or
# without the variable at run time.
#
# Usage: scripts/setup-mediasoup.sh [project dir]   (the project's npm dependencies installed first)
set -euo pipefail
dir="${1:-$(dirname "$0")/..}"
cd "$dir"

say() { printf 'setup: %s\n' "$*"; }

if [ ! -x node_modules/.bin/node ]; then
  echo "setup-mediasoup: node_modules/.bin/node is missing: install the npm dependencies first" >&2
  exit 1
fi
bundled="$PWD/node_modules/.bin"
package=node_modules/mediasoup
own_worker="$package/worker/out/Release/mediasoup-worker"
# Where mediasoup could not be installed, do not try again on every run (offline, the installer
# spends about 40 s failing): only when the lock file changes or a worker is given.
tried=node_modules/.onair-mediasoup-tried

if [ -n "${MEDIASOUP_WORKER_BIN:-}" ] && [ ! -x "$MEDIASOUP_WORKER_BIN" ]; then
  echo "setup: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file" >&2
  exit 1
fi

if [ ! -f "$package/package.json" ]; then
  if [ -n "${MEDIASOUP_WORKER_BIN:-}" ] || [ ! -f "$tried" ] || [ package-lock.json -nt "$tried" ]; then
    say "installing mediasoup (optional) with Node $("$bundled/node" --version)"
    # npm's own script starts with `#!/usr/bin/env node`: the first node on PATH runs it.
    PATH="$bundled:$PATH" npm install --no-audit --no-fund --loglevel=error
    touch "$tried"
  fi
fi

if [ ! -f "$package/package.json" ]; then
  say "mediasoup is not installed (its installer could neither download nor build a worker); the werift SFU runs."
  say "  To use mediasoup, run this again with MEDIASOUP_WORKER_BIN=/path/to/mediasoup-worker."
  exit 0
fi

if [ -n "${MEDIASOUP_WORKER_BIN:-}" ] && [ ! -x "$own_worker" ]; then
  mkdir -p "$(dirname "$own_worker")"
  ln -sfn "$(cd "$(dirname "$MEDIASOUP_WORKER_BIN")" && pwd)/$(basename "$MEDIASOUP_WORKER_BIN")" "$own_worker"
  say "mediasoup uses the worker $MEDIASOUP_WORKER_BIN (linked at $own_worker)"
elif [ -x "$own_worker" ]; then
  say "mediasoup $("$bundled/node" -p "require('./$package/package.json').version") is installed with its worker; ONAIR_SFU=auto runs it"
else
  say "mediasoup is installed without a worker; the werift SFU runs (set MEDIASOUP_WORKER_BIN and run this again)"
fi
