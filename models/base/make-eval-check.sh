#!/usr/bin/env bash
# Records the shipped base agent's success on a few seeded episodes (greedy, so exactly
# reproducible): test/gpu/experiment/base-agent.test.ts re-runs them and compares.
set -euo pipefail
cd "$(dirname "$0")/../.."
args=(--model preset:base --env all --episodes 2 --seed 900001 --max-steps 20)
npx atlas eval "${args[@]}" --json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const r = JSON.parse(s);
    const out = { command: "npx atlas eval " + process.argv.slice(1).join(" ") + " --json", episodes: 2, seed: 900001, maxSteps: 20, policy: r.policy, rows: r.rows };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  });' -- "${args[@]}" > models/base/eval-check.json
echo "wrote models/base/eval-check.json"
