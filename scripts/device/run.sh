#!/usr/bin/env bash
# Runs on a lent GPU machine (the device tool), from the repository root, with .device-kit and
# .gl carried (scripts/device/prepare.sh makes them). One call, about 9 minutes:
#   1. what the machine is (nvidia-smi, the WebGPU adapter Dawn picks);
#   2. atlas bench on the GPU: the M preset, and SmolLM2-135M / Qwen2.5-0.5B / Llama-3.2-1B
#      shapes with LoRA r16 (f32 and f16 bases) — ms/step, tokens/s, model GFLOP/s, bytes;
#   3. the base agent pretrained further for what time is left (docs/base-agent.md), from
#      models/base (or as PRETRAIN_ARGS says), its folder (or its last checkpoint) returned for `atlas eval` here.
# Everything lands in $OUT (at most 8 files come back): log.txt (machine, stderr, progress),
# bench.jsonl (one JSON line per bench) and base-gpu/ (config, weights, tokenizer files,
# provenance, metrics).
set -uo pipefail
START=$(date +%s)
left() { echo $(( ${BUDGET_S:-540} - ($(date +%s) - START) )); }
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
mkdir -p /tmp/kit .device-kit/node_modules/webgpu/dist/linux-x64
xz -dc .device-kit/node.xz > /tmp/kit/node && chmod +x /tmp/kit/node
xz -dc .device-kit/dawn.node.xz > .device-kit/node_modules/webgpu/dist/linux-x64/dawn.node
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; nproc; } > "$OUT/log.txt" 2>&1

# Each bench gets at most 150 s, and none starts with under 5 minutes left (pretraining's share).
bench() {
  local t=$(( $(left) - 300 )); [ "$t" -gt 150 ] && t=150
  if [ "$t" -lt 20 ]; then echo "skipped: bench $*" >> "$OUT/log.txt"; return; fi
  echo "bench $* (limit ${t} s)" >> "$OUT/log.txt"
  timeout "$t" /tmp/kit/node .device-kit/cli/atlas.mjs bench "$@" --json 2>>"$OUT/log.txt" | tail -1 >> "$OUT/bench.jsonl"
}
bench --config M --steps 20 --warmup 3
[ -n "${DEVICE_QUICK:-}" ] || {
bench --config default --steps 10 --warmup 2
bench --config smollm2-135m --lora 16 --steps 5 --warmup 2
bench --config smollm2-135m --lora 16 --f16 --steps 5 --warmup 2
bench --config qwen2.5-0.5b --lora 16 --f16 --steps 3 --warmup 1
bench --config llama3.2-1b --lora 16 --f16 --steps 3 --warmup 1
}

# Pretraining sized to the time left, so its cosine schedule ends inside it: a 40-second probe
# measures tokens/s, then the run gets 80 % of what the rest of the time holds (a minute kept
# to save; a checkpoint every 100 steps if it is cut anyway).
# PRETRAIN_ARGS replaces the default stage (more of models/base), e.g. a larger shape from
# random weights: PRETRAIN_ARGS="--model preset:default --observation-weight 1 --name-weight 5".
export PRETRAIN_ARGS
atlas_pretrain() { /tmp/kit/node .device-kit/cli/atlas.mjs pretrain ${PRETRAIN_ARGS:---init models/base --lr 0.002 --warmup 50} "$@"; }
timeout 40 bash -c "$(declare -f atlas_pretrain); atlas_pretrain --out /tmp/probe --tokens 100000000" > /tmp/probe.log 2>&1
TPS=$(grep -o '"tokensPerSecond":[0-9.]*' /tmp/probe.log | tail -1 | cut -d: -f2)
T=$(( $(left) - 60 ))
TOKENS=${PRETRAIN_TOKENS:-$(awk -v tps="${TPS:-0}" -v t="$T" 'BEGIN { n = int(tps * t * 0.8 / 2048) * 2048; print (n > 0 ? n : 0) }')}
echo "probe: ${TPS:-no} tokens/s; pretraining ${TOKENS} tokens within ${T} s" >> "$OUT/log.txt"
if [ "$T" -gt 60 ] && [ "$TOKENS" -gt 0 ]; then
  timeout "$T" bash -c "$(declare -f atlas_pretrain); atlas_pretrain --out /tmp/base-gpu --tokens $TOKENS" >> "$OUT/log.txt" 2>&1
  echo "pretrain exit $?" >> "$OUT/log.txt"
  src=/tmp/base-gpu; [ -f /tmp/base-gpu/model.safetensors ] || src=/tmp/base-gpu/checkpoint/model
  mkdir -p "$OUT/base-gpu" && cp "$src"/* "$OUT/base-gpu/" 2>/dev/null
  tail -c 2000000 /tmp/base-gpu/metrics.jsonl > "$OUT/base-gpu/metrics.jsonl" 2>/dev/null
fi
ls -la "$OUT" "$OUT/base-gpu" >> "$OUT/log.txt" 2>&1
