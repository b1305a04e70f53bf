// The prompt a trained model continues at evaluation time: the trajectory so far rendered
// exactly as in training (src/data/render.ts), then the agent's turn header. Too-long
// histories keep the prefix (instruction) and drop whole early steps, marked as training
// windows mark them (the omitted-steps turn after the prefix).
import { renderTrajectory } from '../data/render.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import { TRAJECTORY_VERSION, type Step } from '../data/trajectory.ts';

export interface PromptIds {
  ids: number[];
  /** History tokens left out to fit `room`. */
  cutTokens: number;
}

export function renderPromptIds(tok: TextTokenizer, instruction: string, steps: readonly Step[], room: number): PromptIds {
  const r = renderTrajectory({ version: TRAJECTORY_VERSION, id: 'prompt', source: { format: 'rollout' }, instruction, steps: steps.slice(), selections: [] }, tok);
  const header = tok.encode(tok.chat.header.assistant);
  const all = [...r.ids, ...header];
  if (all.length <= room) return { ids: all, cutTokens: 0 };
  const prefix = [...r.ids.subarray(0, r.prefixEnd), ...r.omitted];
  const tailRoom = room - prefix.length;
  if (tailRoom <= header.length) throw new Error(`the instruction alone (${prefix.length} tokens) leaves no room in a ${room}-token prompt`);
  // Earliest step boundary whose remainder fits; else the plain tail.
  let start = all.length - tailRoom;
  for (const s of r.steps) {
    if (s.start >= start) {
      start = s.start;
      break;
    }
  }
  return { ids: [...prefix, ...all.slice(start)], cutTokens: start - r.prefixEnd };
}
