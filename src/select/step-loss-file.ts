// Per-step base-model loss for the highest-loss selector. Two sources:
//   - a JSON-lines file of {"id": "...", "stepLoss": [per-step mean CE, ...]} (any tool can write it);
//   - the engine, from a base model: src/cli/model-arg.ts (modelStepLoss) in Node, which uses
//     src/experiment/per-step-loss.ts (per-step mean token cross-entropy of each agent turn, with
//     the whole trajectory as context).
import type { Trajectory } from '../data/trajectory.ts';

export type StepLossFn = (t: Trajectory) => Promise<readonly number[]> | readonly number[];

/** Builds a StepLossFn from JSONL text; unknown ids or wrong lengths fail that trajectory with a reason. */
export function stepLossFromJsonl(text: string, file = '<step-loss>'): StepLossFn {
  const byId = new Map<string, number[]>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: { id?: unknown; stepLoss?: unknown };
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: invalid JSON (${(err as Error).message})`);
    }
    if (typeof v.id !== 'string' || !Array.isArray(v.stepLoss) || !v.stepLoss.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new Error(`${file}:${i + 1}: expected {"id": string, "stepLoss": [finite numbers]}`);
    }
    byId.set(v.id, v.stepLoss as number[]);
  });
  return (t) => {
    const loss = byId.get(t.id);
    if (!loss) throw new Error(`no per-step loss for trajectory "${t.id}" in ${file}`);
    return loss;
  };
}
