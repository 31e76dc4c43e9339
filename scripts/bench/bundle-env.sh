# Sourced by the prepared device scripts: sets NODE and APP from the system or from BUNDLE
# (scripts/bench/make-gpu-bundle.sh), with peers.tar.xz puts DCMTK and Orthanc wrappers first on PATH, and on
# a machine with an NVIDIA driver puts the folders of CUDA 13's runtime, cuBLAS, cuRAND and cuFFT and of
# cuDNN 9 (there: its Python packages) on LD_LIBRARY_PATH, where ONNX Runtime's CUDA provider loads them.
REPO=$PWD
BUNDLE=${BUNDLE:-$REPO/.devbundle}
NODE=$(command -v node || true)
if [ -n "$NODE" ] && "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "system node $("$NODE" -v)"
else
  xz -dc "$BUNDLE/node.xz" > /tmp/node && chmod +x /tmp/node && NODE=/tmp/node && echo "carried node $("$NODE" -v)"
fi
APP=$REPO
if [ -f "$BUNDLE/app.tar.xz" ]; then
  APP=/tmp/bodyroute-app && mkdir -p "$APP" && tar -xJf "$BUNDLE/app.tar.xz" -C "$APP"
fi
if [ -f "$BUNDLE/peers.tar.xz" ]; then
  PEERS=/tmp/bodyroute-peers
  mkdir -p "$PEERS/bin" && tar -xJf "$BUNDLE/peers.tar.xz" -C "$PEERS"
  # the peers' own dictionaries where their builds look for them
  for d in /usr/share/libdcmtk17 /usr/share/libdcmtk16; do mkdir -p "$d"; for f in "$PEERS"/share/*.dic; do [ -f "$d/${f##*/}" ] || cp "$f" "$d/"; done; done
  for t in "$PEERS"/real/*; do
    printf '#!/bin/sh\nexec %s --library-path %s %s "$@"\n' "$PEERS/lib/ld-linux-x86-64.so.2" "$PEERS/lib" "$t" > "$PEERS/bin/$(basename "$t")"
    chmod +x "$PEERS/bin/$(basename "$t")"
  done
  export PATH="$PEERS/bin:$PATH" DCMDICTPATH="$PEERS/share/dicom.dic:$PEERS/share/private.dic"
  echo "carried peers: $(ls "$PEERS/real" | tr '\n' ' ')"
fi
if command -v nvidia-smi > /dev/null; then
  cuda_dirs=$(find /usr /opt -xdev \( -name 'libcudart.so.13*' -o -name 'libcublas*.so.13*' -o -name 'libcurand.so.10*' \
    -o -name 'libcufft.so.12*' -o -name 'libcudnn.so.9*' \) -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
  export LD_LIBRARY_PATH="${cuda_dirs}${LD_LIBRARY_PATH:-}"
fi
