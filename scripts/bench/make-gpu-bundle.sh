#!/bin/bash
# Packs what scripts/bench/gpu-check.sh needs on a machine without network or Node.js into .devbundle/
# (ignored by git): the Node binary and the built app with its production dependencies (onnxruntime-node's
# Linux x64 binaries only). Run after `npm ci` (which builds dist/).
set -eu
cd "$(dirname "$0")/../.."
mkdir -p .devbundle
xz -T2 -6 -c "$(command -v node)" > .devbundle/node.xz
tar --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' --exclude='node_modules/typescript' \
  --exclude='node_modules/@types' --exclude='node_modules/mocha' \
  -cf - dist models package.json node_modules | xz -T2 -6 > .devbundle/app.tar.xz
ls -la .devbundle
