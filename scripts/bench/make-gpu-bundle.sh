#!/bin/bash
# Packs what the prepared device scripts need on a machine without network, Node.js, DCMTK or Orthanc into
# .devbundle/ (ignored by git), within the device tool's 64 MiB:
#   node.xz       the Node binary
#   app.tar.xz    the built app with its production dependencies (onnxruntime-node's Linux x64 binaries only)
#   peers.tar.xz  with --peers: this machine's storescu, storescp, dcmcjpeg and Orthanc with every shared
#                 library they load (glibc's loader included), run there through that loader
#                 (scripts/bench/bundle-env.sh), so the bench compares against the same peer builds as here
# Run after `npm ci` (which builds dist/).
set -eu
cd "$(dirname "$0")/../.."
mkdir -p .devbundle
xz -T2 -9 -c "$(command -v node)" > .devbundle/node.xz
tar --exclude='*.map' --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
  --exclude='node_modules/typescript' --exclude='node_modules/@types' --exclude='node_modules/mocha' \
  --exclude='node_modules/dcmjs/build/dcmjs.es.js' --exclude='node_modules/dcmjs/build/dcmjs.min.js' \
  -cf - dist models package.json node_modules | xz -T2 -9 > .devbundle/app.tar.xz
if [ "${1:-}" = --peers ]; then
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
ls -la .devbundle
