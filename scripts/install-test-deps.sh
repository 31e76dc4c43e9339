#!/usr/bin/env bash
# Installs what the test suite needs that npm cannot: the real DICOM peers the interop
# tests start on loopback (DCMTK, Orthanc), GDCM's gdcmconv (JPEG 2000 fixtures), NumPy
# (the test that proves the training preprocessing equals the runtime one), PyTorch (the training
# script's test trains a tiny model: folds, --jobs, the recipe check), Debian's chromium
# (the status page test drives it with playwright-core, which never downloads a browser),
# iproute2 (the HTTP token test adds a non-loopback address to lo; the scale-out test builds
# network namespaces), HAProxy (the scale-out test's load balancer) and xz-utils (the cuda:install
# test packs an xz tarball, as scripts/bench/make-gpu-bundle.sh does).
# Debian/Ubuntu; run as root (or with sudo).
set -euo pipefail
packages=(dcmtk orthanc libgdcm-tools python3-numpy python3-torch openssl chromium iproute2 haproxy xz-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present: ${packages[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian starts Orthanc as a service on install where an init system runs; the tests start their own.
# The same for HAProxy: the scale-out test starts its own in a namespace.
if command -v service >/dev/null 2>&1; then
  $SUDO service orthanc stop >/dev/null 2>&1 || true
  $SUDO service haproxy stop >/dev/null 2>&1 || true
fi
