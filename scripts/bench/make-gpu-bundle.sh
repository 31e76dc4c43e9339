#!/bin/bash
# Packs what the prepared device scripts need on a machine without network, Node.js, DCMTK or Orthanc into
# .devbundle/ (ignored by git), within the device tool's 64 MiB:
#   node.xz       the Node binary
#   app.tar.xz    the built app with its production dependencies (onnxruntime-node's Linux x64 binaries only)
#   peers.tar.xz  with --peers: this machine's storescu, storescp, dcmcjpeg and Orthanc with every shared
#                 library they load (glibc's loader included), run there through that loader
#                 (scripts/bench/bundle-env.sh), so the bench compares against the same peer builds as here
#   cuda/part-*   with --cuda [TARBALL]: ONNX Runtime's CUDA provider from the npm registry (the package that
#                 `npm run cuda:install` fetches, or TARBALL, its `npm pack`), its two libraries repacked as one
#                 tar.xz (164 MB: the provider is 230 MB of mostly compressed GPU code), split into parts of
#                 PART_MIB MiB (default 56: three parts, each under the 64 MiB that one device call carries
#                 together with the working tree), with cuda/SHA256SUMS. How the pieces travel, one call each,
#                 and are joined and installed there: scripts/bench/gpu-check.sh.
# Run after `npm ci` (which builds dist/).
set -eu
cd "$(dirname "$0")/../.."
peers=no cuda=no cuda_tarball=""
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) peers=yes; shift ;;
    --cuda) cuda=yes; shift; if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then cuda_tarball=$(realpath "$1"); shift; fi ;;
    *) echo "usage: scripts/bench/make-gpu-bundle.sh [--peers] [--cuda [TARBALL]]" >&2; exit 2 ;;
  esac
done
mkdir -p .devbundle
xz -T2 -9 -c "$(command -v node)" > .devbundle/node.xz
tar --exclude='*.map' --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
  --exclude='node_modules/typescript' --exclude='node_modules/@types' --exclude='node_modules/mocha' \
  --exclude='node_modules/dcmjs/build/dcmjs.es.js' --exclude='node_modules/dcmjs/build/dcmjs.min.js' \
  -cf - dist models package.json scripts/cuda-install.sh node_modules | xz -T2 -9 > .devbundle/app.tar.xz
if [ $peers = yes ]; then
  stage=$(mktemp -d)
  mkdir -p "$stage"/{lib,real,share}
  tools="storescu storescp dcmcjpeg Orthanc"
  for t in $tools; do cp "$(command -v "$t")" "$stage/real/"; done
  for t in $tools; do ldd "$(command -v "$t")"; done | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | sort -u \
    | while read -r lib; do cp -L "$lib" "$stage/lib/"; done
  cp /usr/share/libdcmtk*/*.dic "$stage/share/"
  tar -C "$stage" -cf - . | xz -T2 -9 > .devbundle/peers.tar.xz
  rm -rf "$stage"
else
  rm -f .devbundle/peers.tar.xz
fi
rm -rf .devbundle/cuda
if [ $cuda = yes ]; then
  stage=$(mktemp -d)
  if [ -z "$cuda_tarball" ]; then
    provider_package=$(sed -n 's/^PROVIDER_PACKAGE="\(.*\)"$/\1/p' scripts/cuda-install.sh)
    (cd "$stage" && npm pack --silent "$provider_package" > /dev/null)
    cuda_tarball=$(ls "$stage"/*.tgz)
  fi
  libs=package/Plugins/Linux/x64
  tar -xzf "$cuda_tarball" -C "$stage" "$libs/libonnxruntime_providers_cuda.so" "$libs/libonnxruntime_providers_shared.so"
  mkdir -p .devbundle/cuda
  tar -C "$stage" -cf - "$libs" | xz -T2 -9 | (cd .devbundle/cuda && split -b "${PART_MIB:-56}M" - part-)
  (cd .devbundle/cuda && sha256sum part-* > SHA256SUMS)
  rm -rf "$stage"
  ls -la .devbundle/cuda
fi
ls -la .devbundle
