#!/usr/bin/env bash
# Installs what onair needs on a fresh Debian/Ubuntu machine:
#   - FFmpeg, srt-tools (and, with --test, Chromium, nginx-light and wrk for the edge tests and the
#     bench, GStreamer with its WebRTC plugins as a third-party publisher) from the distribution's
#     packages, when missing
#   - npm dependencies, including Node 24 LTS (the `node` package) that the npm scripts run on,
#     and mediasoup where it can run (scripts/setup-mediasoup.sh; MEDIASOUP_WORKER_BIN gives a worker)
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
# A third-party WHIP client in the tests: GStreamer's webrtcbin, driven from Debian's Python.
if [ "$with_browser" = 1 ] && ! /usr/bin/python3 -c 'import gi; gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")' >/dev/null 2>&1; then
  missing+=(python3-gst-1.0 gir1.2-gst-plugins-bad-1.0)
fi
gst_ok=1
for element in webrtcbin x264enc opusenc nicesrc videotestsrc; do
  gst-inspect-1.0 "$element" >/dev/null 2>&1 || gst_ok=0
done
if [ "$with_browser" = 1 ] && [ "$gst_ok" = 0 ]; then
  missing+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-nice)
fi

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

# mediasoup (optional): installed under Node 24, or with the worker MEDIASOUP_WORKER_BIN names.
bash scripts/setup-mediasoup.sh

say "building the web UI"
npm run --silent build >/dev/null
say "ready (node $node_version, $(ffmpeg -hide_banner -version | head -1 | cut -d' ' -f1-3))"
