#!/usr/bin/env bash
# npm run cuda:install [-- --from TARBALL]
# Opt-in, never part of `npm ci`: puts ONNX Runtime's CUDA execution provider next to onnxruntime-node's
# binding (where ONNX Runtime looks for providers), from the npm registry alone. Microsoft's Linux x64
# provider libraries of ONNX Runtime 1.29.0, built for CUDA 13 and cuDNN 9, are on npm as
# com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (MIT; ~179 MB); onnxruntime-node is pinned to the
# same 1.29.0 in package.json. A provider of another ONNX Runtime version is refused here, loudly, rather
# than left to crash the classifier at start. --from TARBALL installs from a tarball copied in by hand
# (machines without network: `npm pack com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9` elsewhere, or the
# smaller .tar.xz that scripts/bench/make-gpu-bundle.sh --cuda repacks it into).
# The machine needs the NVIDIA driver, CUDA 13 and cuDNN 9 on the library path; then set
# classifier.device: cuda (or auto). BODYROUTE_ORT_BINDING_DIR overrides where the libraries go (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PROVIDER_PACKAGE="com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9"
from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$2"; shift 2 ;;
    *) echo "usage: npm run cuda:install [-- --from TARBALL]" >&2; exit 2 ;;
  esac
done
ort_version=$(node -p "require('onnxruntime-node/package.json').version")
binding_dir="${BODYROUTE_ORT_BINDING_DIR:-$(dirname "$(node -p "require.resolve('onnxruntime-node/package.json')")")/bin/napi-v6/linux/x64}"
[ -f "$binding_dir/libonnxruntime.so.1" ] || { echo "cuda:install: no onnxruntime-node Linux x64 binding in $binding_dir (run npm ci first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$from" ]; then
  echo "fetching $PROVIDER_PACKAGE from the npm registry (about 179 MB)"
  (cd "$work" && npm pack --silent "$PROVIDER_PACKAGE" > /dev/null)
  from=$(ls "$work"/*.tgz)
fi
tar -xf "$from" -C "$work" package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so
libs="$work/package/Plugins/Linux/x64"
# the ONNX Runtime version compiled into the provider (its version string stands alone in .rodata)
provider_version=$(LC_ALL=C grep -aoE '(^|[^0-9.])1\.[0-9]+\.[0-9]+([^0-9.]|$)' "$libs/libonnxruntime_providers_cuda.so" \
  | LC_ALL=C grep -aoE '1\.[0-9]+\.[0-9]+' | LC_ALL=C grep -axF "$ort_version" | head -1 || true)
if [ "$provider_version" != "$ort_version" ]; then
  echo "cuda:install: refused: the CUDA provider in $(basename "$from") was not built for ONNX Runtime $ort_version (onnxruntime-node's version); a mismatched provider crashes the runtime. Pin onnxruntime-node to the provider's version." >&2
  exit 1
fi
cp "$libs/libonnxruntime_providers_cuda.so" "$libs/libonnxruntime_providers_shared.so" "$binding_dir/"
echo "installed the CUDA provider of ONNX Runtime $ort_version into $binding_dir"
missing=$( (ldd "$binding_dir/libonnxruntime_providers_cuda.so" 2>/dev/null || true) | awk '/not found/ { print $1 }' | tr '\n' ' ')
if [ -n "$missing" ]; then
  echo "cuda:install: note: these CUDA libraries are not on the library path here: $missing(CUDA 13 and cuDNN 9 are needed where classifier.device: cuda runs)" >&2
fi
