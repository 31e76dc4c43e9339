#!/usr/bin/env bash
# npm run train -- --data DIR [--labels CSV] [--extra-labels CSV]... [--out models/] [--seed N] [--epochs N] ...
# Preprocesses DIR with bodyroute's own runtime code (`bodyroute dataset export`), then trains
# with Debian's python3-torch (scripts/install-train-deps.sh). Extra options go to train.py.
# --extra-labels adds labelled images from elsewhere, by absolute path: the output of
# `bodyroute dataset corrections` (an archive an operator corrected on the status page).
set -euo pipefail
cd "$(dirname "$0")/.."
data=""; labels=""; out="models"; size=""; rest=(); extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --labels) labels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --extra-labels) extra+=("$2"); shift 2 ;;
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
if [ ${#extra[@]} -gt 0 ]; then
  # one labels file: the data's rows and the extra rows (absolute paths), columns united
  mkdir -p var/train-cache
  merged="var/train-cache/labels-with-extra.csv"
  "$PYTHON" - "$labels" "$merged" "${extra[@]}" <<'PY'
import csv, sys
first, out, extras = sys.argv[1], sys.argv[2], sys.argv[3:]
rows, columns = [], []
for path in [first, *extras]:
    with open(path, newline='') as f:
        r = csv.DictReader(f)
        columns += [c for c in r.fieldnames if c not in columns]
        rows += list(r)
with open(out, 'w', newline='') as f:
    w = csv.DictWriter(f, fieldnames=columns)
    w.writeheader()
    w.writerows(rows)
print(f'{len(rows)} labelled images ({len(extras)} extra file(s))', file=sys.stderr)
PY
  labels="$merged"
  cache="${cache}-with-extra"
fi
node dist/src/cli.js dataset export --labels "$labels" --images "$data" --out "$cache" ${size:+--size "$size"}
"$PYTHON" scripts/training/train.py --export "$cache" --out "$out" ${rest[@]+"${rest[@]}"}
echo "training finished in $(( $(date +%s) - start )) s"
