#!/bin/bash
# The prepared GPU check of issues 6 and 16 (docs/performance.md, "GPU"). Runs on a machine with an NVIDIA GPU,
# from the repository root, in about 5 minutes; writes its log and JSON figures to $OUT (default /tmp/gpu-check).
#
# The device machine has no network and may have no Node.js: BUNDLE (default .devbundle/) may hold node.xz (a
# Node 20 binary), app.tar.xz (dist/, models/, package.json, scripts/cuda-install.sh, node_modules/ built here)
# and cuda/ (ONNX Runtime's CUDA provider from the npm registry, in parts), made by
#   scripts/bench/make-gpu-bundle.sh --cuda
# One device call carries at most 64 MiB, so the bundle travels over several calls, each gathering what it
# carried into one folder that outlives the call while the machine stays warm:
#   mkdir -p /tmp/bodyroute-bundle && cp -r .devbundle/. /tmp/bodyroute-bundle/
# and the last one runs BUNDLE=/tmp/bodyroute-bundle scripts/bench/gpu-check.sh. The provider's parts are
# joined, checked against cuda/SHA256SUMS and installed with scripts/cuda-install.sh --from, as a site without
# network would (docs/deployment.md, "GPU"); it stays installed for scripts/bench/pipeline-elsewhere.sh with
# BENCH_DEVICE=cuda on the same machine.
set -u
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
section() { echo; echo "== $*"; }

section machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "no nvidia-smi"
echo "cpus: $(nproc)"; grep -m1 'model name' /proc/cpuinfo

section node
. scripts/bench/bundle-env.sh
ORTBIN=$(ls -d "$APP"/node_modules/onnxruntime-node/bin/napi-v*/linux/x64 | head -1)
echo "onnxruntime-node $(cd "$APP" && "$NODE" -p 'require("onnxruntime-node/package.json").version') at $ORTBIN"

section "CUDA provider for onnxruntime-node, from the npm registry (scripts/cuda-install.sh)"
if (cd "$BUNDLE/cuda" 2>/dev/null && sha256sum -c --quiet SHA256SUMS); then
  cat "$BUNDLE"/cuda/part-* > /tmp/provider.tar.xz
  PATH="$(dirname "$NODE"):$PATH" bash "$APP/scripts/cuda-install.sh" --from /tmp/provider.tar.xz
  rm -f /tmp/provider.tar.xz
else
  echo "RESULT: the provider's parts in $BUNDLE/cuda are missing or damaged ($(ls "$BUNDLE/cuda" 2>/dev/null | tr '\n' ' '))"
fi
echo "library path: ${LD_LIBRARY_PATH:-}"
ldd "$ORTBIN/libonnxruntime_providers_cuda.so" 2>/dev/null | grep -E 'not found|libcu' | sed 's/^/  /'

cd "$APP"
section "bodyroute classifier, CPU (onnxruntime-node), this machine's cores"
timeout 90 "$NODE" dist/scripts/bench/classify-throughput.js --device cpu --workers 8 --threads 1 --images 4000 --json "$OUT/cpu.json"

section "bodyroute classifier, CUDA (onnxruntime-node), 1 worker, batches of up to 16 (the configuration's defaults)"
timeout 90 "$NODE" dist/scripts/bench/classify-throughput.js --device cuda --workers 1 --batch 16 --images 4000 --json "$OUT/cuda-w1.json" \
  || echo "RESULT: onnxruntime-node could not run on CUDA here (see the error above)"

section "bodyroute classifier, CUDA (onnxruntime-node), 4 workers, batches of up to 64"
timeout 90 "$NODE" dist/scripts/bench/classify-throughput.js --device cuda --workers 4 --batch 64 --images 4000 --json "$OUT/cuda-w4.json" \
  || echo "RESULT: onnxruntime-node could not run on CUDA here (see the error above)"

# as the router feeds them: images arriving at 400/s, small batches spread over the workers (the pipeline with
# several CUDA workers was 3-5 times slower than with one, docs/performance.md; this shows whether it is per run)
for w in 1 4; do
  section "bodyroute classifier, CUDA, $w worker(s), images submitted at 400/s"
  timeout 60 "$NODE" dist/scripts/bench/classify-throughput.js --device cuda --workers $w --batch 16 --images 2000 --rate 400 \
    --json "$OUT/cuda-w$w-rate400.json" || echo "RESULT: failed (see above)"
done
section "bodyroute classifier, CPU, 4 workers, images submitted at 400/s"
timeout 60 "$NODE" dist/scripts/bench/classify-throughput.js --device cpu --workers 4 --batch 16 --images 2000 --rate 400 --json "$OUT/cpu-w4-rate400.json"

echo; echo "done"
