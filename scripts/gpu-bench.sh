#!/usr/bin/env bash
# The GPU path, in one command, for a machine with an NVIDIA GPU and the Vulkan loader
# (onnxruntime-node's WebGPU provider runs on Dawn over Vulkan). Runs on the built tree with its
# node_modules: the model benchmark on webgpu and cpu in the same run, output agreement between
# them, and the daemon's bench with webgpu first; appends the figures, the card and the date to
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
card="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no NVIDIA GPU found')"
{
  echo
  echo "## GPU run, $(date -u +%Y-%m-%d), ${card}"
  echo
  echo '```'
  node dist/scripts/bench-models.js --providers webgpu,cpu --seconds 10 2>&1
  echo
  node dist/scripts/provider-agreement.js --a webgpu --b cpu 2>&1
  echo
  LUMEN_PROVIDERS=webgpu,cpu node dist/scripts/bench.js --seconds 15 2>&1
  echo '```'
} | tee -a "$out"
