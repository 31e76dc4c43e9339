#!/bin/bash
# `npm run bench` on another machine (the lent GPU machine: 16 cores, no network, no Node.js, DCMTK or
# Orthanc), from the bundle made here by `scripts/bench/make-gpu-bundle.sh --peers`. Writes its log and
# JSON figures to $OUT (default /tmp/pipeline-elsewhere). IMAGES (default 1000), WORKERS (default "1 4":
# classifier worker threads, one bench run each), ASSOCIATIONS (default 1: --associations) and BENCH_DEVICE
# (classifier.device, default cpu; cuda once scripts/bench/gpu-check.sh has installed the provider) can be set.
set -u
OUT=${OUT:-/tmp/pipeline-elsewhere}
mkdir -p "$OUT"
exec > >(tee "$OUT/pipeline.log") 2>&1
echo "== machine"; echo "cpus: $(nproc)"; grep -m1 'model name' /proc/cpuinfo; df -h /tmp | tail -1
. scripts/bench/bundle-env.sh
storescp --version | head -1; Orthanc --version | head -1
cd "$APP"
for w in ${WORKERS:-1 4}; do
  echo; echo "== npm run bench -- --images ${IMAGES:-1000} --associations ${ASSOCIATIONS:-1} (classifier workers: $w, device: ${BENCH_DEVICE:-cpu})"
  BENCH_WORKERS=$w timeout 240 "$NODE" dist/scripts/bench/pipeline.js --images "${IMAGES:-1000}" --associations "${ASSOCIATIONS:-1}" \
    --json "$OUT/bench-workers$w.json"
done
echo; echo "done"
