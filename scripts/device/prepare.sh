#!/usr/bin/env bash
# Prepares, on this machine, what scripts/device/run.sh needs on a lent GPU machine (which has
# no Node.js, no Vulkan loader and no network): .device-kit/ (Node, the bundled atlas CLI, Dawn)
# and .gl/ (Debian's Vulkan loader, unpacked there). Both are git-ignored; name both in `carry`.
set -euo pipefail
cd "$(dirname "$0")/../.."
node scripts/device/kit.mjs
mkdir -p .gl /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1)
du -sh .device-kit .gl
