#!/bin/bash
# The prepared GPU check of issue 6 (docs/performance.md, "GPU"). Runs on a machine with an NVIDIA GPU, from
# the repository root, in at most about 5 minutes; writes its log and JSON figures to $OUT (default /tmp/gpu-check).
#
# The device machine has no network and may have no Node.js: BUNDLE (default .devbundle/) may hold node.xz (a
# Node 20 binary) and app.tar.xz (dist/, models/, package.json, node_modules/ built here), made by
#   scripts/bench/make-gpu-bundle.sh
# onnxruntime-node's CUDA provider (libonnxruntime_providers_cuda.so) is normally downloaded by its install
# script from nuget.org; where that is not reachable, the check looks for the same-version provider in the
# machine's Python onnxruntime package and says plainly when there is none.
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

section "CUDA provider for onnxruntime-node"
PYORT=$(python3 -c 'import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))' 2>/dev/null || true)
python3 -c 'import onnxruntime as o; print("python onnxruntime", o.__version__, o.get_available_providers())' 2>&1 | tail -1
if [ -n "$PYORT" ] && [ -f "$PYORT/capi/libonnxruntime_providers_cuda.so" ]; then
  cp "$PYORT/capi/libonnxruntime_providers_cuda.so" "$PYORT/capi/libonnxruntime_providers_shared.so" "$ORTBIN/" && echo "copied the CUDA provider from $PYORT/capi"
else
  echo "no libonnxruntime_providers_cuda.so on this machine (python onnxruntime at ${PYORT:-none} is CPU-only; nuget.org is not reachable)"
fi
# CUDA runtime, cuBLAS and cuDNN from the machine's pip packages, where the provider would look for them
LIBDIRS=$(find /usr /opt -xdev \( -name 'libcudart.so*' -o -name 'libcublas.so*' -o -name 'libcudnn.so*' \) -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${LIBDIRS}${LD_LIBRARY_PATH:-}"
find /usr /opt -xdev \( -name 'libcudart.so.*' -o -name 'libcudnn.so.*' \) 2>/dev/null | sed 's/^/  found /' | head -6

cd "$APP"
section "bodyroute classifier, CPU (onnxruntime-node), this machine's cores"
timeout 90 "$NODE" dist/scripts/bench/classify-throughput.js --device cpu --workers 8 --threads 1 --images 4000 --json "$OUT/cpu.json"

section "bodyroute classifier, CUDA (onnxruntime-node)"
timeout 90 "$NODE" dist/scripts/bench/classify-throughput.js --device cuda --workers 4 --batch 64 --images 4000 --json "$OUT/cuda.json" \
  || echo "RESULT: onnxruntime-node could not run on CUDA here (see the error above)"

section "the same network on the GPU through PyTorch (random weights: throughput only)"
timeout 90 python3 - "$OUT/torch.json" "$REPO/scripts/training" <<'EOF'
import json, sys, time
sys.path.insert(0, sys.argv[2])
import torch
from train import RegionNet
assert torch.cuda.is_available(), 'no CUDA in torch'
dev = torch.device('cuda')
rows = []
for dtype in (torch.float32, torch.float16):
    model = RegionNet(15).to(dev).eval().to(dtype)
    for batch in (1, 16, 64, 256, 1024):
        x_host = torch.rand(batch, 1, 128, 128).pin_memory()
        with torch.inference_mode():
            for _ in range(5):
                model(x_host.to(dev, non_blocking=True).to(dtype))
            torch.cuda.synchronize()
            runs, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 1.0:
                model(x_host.to(dev, non_blocking=True).to(dtype)).float().cpu()
                runs += 1
            ms = (time.perf_counter() - t0) / runs * 1000
        rows.append({'dtype': str(dtype), 'batch': batch, 'imagesPerSecond': batch * 1000 / ms, 'msPerBatch': ms})
        print(f"  {str(dtype):14} batch {batch:5}: {batch * 1000 / ms:10.0f} images/s  ({ms:.2f} ms per batch, host→GPU copy and result back included)")
json.dump({'gpu': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'rows': rows}, open(sys.argv[1], 'w'), indent=2)
EOF
echo; echo "done"
