#!/usr/bin/env bash
# What `npm run train` needs besides Node: PyTorch and NumPy from Debian (no PyPI).
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q python3-torch python3-numpy
