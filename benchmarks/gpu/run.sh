#!/usr/bin/env bash
# On the GPU machine (no network, no Node): unpacks benchmarks/gpu/.bundle/infodcl-gpu.tar.xz, puts the
# carried Vulkan loader on the library path (dpkg -x into the bundle, never into /), points the loader
# at the NVIDIA ICD, then runs on the webgpu backend: the conformance suite, the backend tests, the op
# benchmark (webgpu and wasm) and matmul 4096³. JSON results go to $OUT (at most 8 files).
# Usage (repository root, bundle carried): OUT=/some/dir bash benchmarks/gpu/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:?set OUT to the results folder}
mkdir -p "$OUT"
work=$(mktemp -d)
log=$OUT/log.txt
exec > >(tee -a "$log") 2>&1
tar -C "$work" -xJf benchmarks/gpu/.bundle/infodcl-gpu.tar.xz
node=$work/node
app=$work/app
mkdir -p "$work/root"
for f in "$work"/debs/libvulkan1_*.deb; do dpkg -x "$f" "$work/root"; done
vk=$work/root/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH="$vk${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! "$node" --version >/dev/null 2>&1; then   # an older libstdc++ on the machine: use the carried one
  for f in "$work"/debs/libstdc++6_*.deb; do dpkg -x "$f" "$work/root"; done
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; fi
done
echo "node $("$node" --version); VK_DRIVER_FILES=${VK_DRIVER_FILES:-none}; nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | head -1)"
cd "$app"
export WEBGPU=1 NO_COLOR=1 FORCE_COLOR=0

# The adapter and its limits.
"$node" --input-type=module -e "
  const { create } = await import('webgpu');
  const gpu = create([]); globalThis.keep = gpu;
  const a = await gpu.requestAdapter();
  const lim = {}; for (const k in a.limits) lim[k] = a.limits[k];
  console.log(JSON.stringify({ info: { vendor: a.info.vendor, architecture: a.info.architecture, device: a.info.device,
    description: a.info.description, fallback: a.info.isFallbackAdapter }, features: [...a.features], limits: lim }, null, 1));
  process.exit(0);" > "$OUT/device.json" || echo "device probe failed"

# Conformance (webgpu, wasm and reference) and the webgpu backend tests, one process per file.
summary="["
for f in dist/tests/conformance/*.test.js dist/tests/webgpu/backend.test.js; do
  start=$(date +%s%N)
  res=$(timeout 300 "$node" "$f" 2>&1); rc=$?
  secs=$(( ($(date +%s%N) - start) / 1000000000 ))
  total=$(echo "$res" | sed -n 's/.*Total:[[:space:]]*\([0-9]*\).*/\1/p' | tail -1)
  passed=$(echo "$res" | sed -n 's/.*Passed:[[:space:]]*\([0-9]*\).*/\1/p' | tail -1)
  fails=$(echo "$res" | grep -E 'FAIL +"|known gap \[' | head -40 | sed 's/\\/\\\\/g; s/"/\\"/g' | awk '{printf "%s\"%s\"", (NR>1?",":""), $0}')
  echo "$f: rc=$rc ${passed:-0}/${total:-0} in ${secs}s"
  summary="$summary{\"file\":\"$f\",\"exit\":$rc,\"total\":${total:-0},\"passed\":${passed:-0},\"seconds\":$secs,\"failures\":[${fails}]},"
done
echo "${summary%,}]" > "$OUT/conformance.json"

train=()
[ -f "$work/office-train.txt" ] && train=(--train-file "$work/office-train.txt")
# QUICK=1 (a trial run on a machine without a GPU) shrinks the benchmarks.
quick=(); [ "${QUICK:-0}" = 1 ] && quick=(--quick --repeat 2 --warmup 1)
timeout 300 "$node" bin/infodcl.js bench ops --backend webgpu --json "${train[@]}" "${quick[@]}" > "$OUT/ops-webgpu.json" || echo "bench webgpu failed"
timeout 300 "$node" bin/infodcl.js bench ops --backend wasm --json "${train[@]}" "${quick[@]}" > "$OUT/ops-wasm.json" || echo "bench wasm failed"
timeout 300 "$node" dist/benchmarks/gpu/matmul4096.js --n "${MATMUL_N:-4096}" > "$OUT/matmul4096.json" || echo "matmul 4096 failed"
echo "results in $OUT: $(ls "$OUT" | tr '\n' ' ')"
