#!/usr/bin/env bash
# npm run train -- --data DIR [--labels CSV] [--out models/] [--seed N] [--epochs N] ...
# Preprocesses DIR with bodyroute's own runtime code (`bodyroute dataset export`), then trains
# with Debian's python3-torch (scripts/install-train-deps.sh). Extra options go to train.py.
set -euo pipefail
cd "$(dirname "$0")/.."
data=""; labels=""; out="models"; size=""; rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --labels) labels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done
if [ -z "$data" ]; then
  echo "usage: npm run train -- --data DIR [--labels CSV (default DIR/manifest.csv)] [--out DIR] [--seed N] [--epochs N]" >&2
  exit 2
fi
labels="${labels:-$data/manifest.csv}"
PYTHON="${BODYROUTE_PYTHON:-/usr/bin/python3}"
[ -x "$PYTHON" ] || PYTHON=python3
"$PYTHON" -c "import torch, numpy" 2>/dev/null || { echo "python3-torch and python3-numpy are needed: sudo scripts/install-train-deps.sh" >&2; exit 1; }
[ -f dist/src/cli.js ] || npx tsc -p tsconfig.json
cache="var/train-cache/export-${size:-default}"
start=$(date +%s)
node dist/src/cli.js dataset export --labels "$labels" --images "$data" --out "$cache" ${size:+--size "$size"}
"$PYTHON" scripts/training/train.py --export "$cache" --out "$out" ${rest[@]+"${rest[@]}"}
echo "training finished in $(( $(date +%s) - start )) s"
