#!/usr/bin/env bash
# Packs everything the GPU run needs into benchmarks/gpu/.bundle/ (git-ignored; carried to the device
# machine, which has no network and no Node): this machine's `node` executable, the project compiled to
# JavaScript (engine, backends, ts-api, benchmarks and tests), the wasm kernels, the runtime node_modules
# with only Dawn's linux-x64 binary, Debian's Vulkan loader (and libstdc++ as a fallback) as .deb files
# for `dpkg -x`, and Office's train.txt for the spmm row. Everything in one .tar.xz, checked < 64 MiB.
# Usage (here, with network): bash benchmarks/gpu/pack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=benchmarks/gpu/.bundle
stage=$(mktemp -d)
app=$stage/app
trap 'rm -rf "$stage"' EXIT
grep -qx '/benchmarks/gpu/.bundle/' .git/info/exclude 2>/dev/null || echo '/benchmarks/gpu/.bundle/' >> .git/info/exclude

npm run build:wasm >/dev/null
mkdir -p "$app/bin" "$app/wasm/build" "$app/node_modules" "$stage/debs"
npx tsc -p tsconfig.json --outDir "$app/dist" --declaration false
cp bin/infodcl.js "$app/bin/"
cp package.json "$app/"
cp wasm/build/*.wasm "$app/wasm/build/" # every kernel variant: plain/relaxed, one thread/threads
cp "$(command -v node)" "$stage/node"

# Runtime packages: the CLI's (msgpackr), the test runner's (uvu and its dependencies), and webgpu with
# only the linux-x64 Dawn addon.
for p in msgpackr uvu dequal diff kleur sade mri; do cp -r "node_modules/$p" "$app/node_modules/"; done
mkdir -p "$app/node_modules/webgpu/dist"
cp node_modules/webgpu/{package.json,index.js} "$app/node_modules/webgpu/"
cp -r node_modules/webgpu/dist/linux-x64 "$app/node_modules/webgpu/dist/"

# The Vulkan loader (and a libstdc++ for Dawn in case the machine's is older), amd64, from Debian.
lists=$(mktemp -d)
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${o[@]}" update -q >/dev/null
(cd "$stage/debs" && apt-get "${o[@]}" download libvulkan1 libstdc++6 >/dev/null)
rm -rf "$lists"

train=../shared/datasets/office/train.txt
[ -f "$train" ] && cp "$train" "$stage/office-train.txt"

mkdir -p "$out"
tar -C "$stage" -cJf "$out/infodcl-gpu.tar.xz" .
cp benchmarks/gpu/run.sh "$out/run.sh"
bytes=$(stat -c %s "$out/infodcl-gpu.tar.xz")
echo "pack: $out/infodcl-gpu.tar.xz $((bytes / 1048576)) MiB"
[ "$bytes" -lt $((60 * 1048576)) ] || { echo "pack: over the 60 MiB budget"; exit 1; }
