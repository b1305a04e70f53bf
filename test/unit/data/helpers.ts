// Shared test helpers for the data suite: sample trajectories and a comparable projection.
import { bytesSource } from '../../../src/data/lines.ts';
import { importTrajectories, type ImportOptions } from '../../../src/data/importer.ts';
import { activeSelection, selectedSteps, TRAJECTORY_VERSION, type Trajectory } from '../../../src/data/trajectory.ts';

export const NOW = '2026-01-01T00:00:00.000Z';

export function importText(text: string | Uint8Array, opts: Partial<ImportOptions> = {}, chunk = 64 * 1024) {
  return importTrajectories(bytesSource(text, chunk), { file: 'test.jsonl', importedAt: NOW, ...opts });
}

/** What an export/import round trip must preserve. */
export function comparable(t: Trajectory) {
  return {
    system: t.system,
    preamble: t.preamble,
    instruction: t.instruction,
    steps: t.steps.map((s) => ({ agent: s.agent, observation: s.observation, thought: s.thought, action: s.action })),
    selected: selectedSteps(activeSelection(t)),
  };
}

export function sampleTrajectory(id: string, nSteps: number, opts: { system?: string; preamble?: boolean; critical?: number[]; emptyObsAt?: number[] } = {}): Trajectory {
  return {
    version: TRAJECTORY_VERSION,
    id,
    source: { format: 'test' },
    ...(opts.system !== undefined && { system: opts.system }),
    instruction: `Your task is to: put a mug ${id} in the cabinet.`,
    ...(opts.preamble && { preamble: [{ role: 'user' as const, text: 'You are a household agent. Answer with Thought: and Action:.' }, { role: 'agent' as const, text: 'OK' }] }),
    steps: Array.from({ length: nSteps }, (_, i) => ({
      agent: `Thought: step ${i} — I should look around ✓.\nAction: go to shelf ${i}`,
      thought: `step ${i} — I should look around ✓.`,
      action: `go to shelf ${i}`,
      observation: opts.emptyObsAt?.includes(i) ? '' : `On shelf ${i}, you see a mug ${i}.`,
    })),
    selections: opts.critical
      ? [{ selector: 'oracle:test', createdAt: NOW, status: 'labelled' as const, budget: 0.3, critical: opts.critical.map((step) => ({ step, category: 'action' as const, reason: `because ${step}` })) }]
      : [],
  };
}
