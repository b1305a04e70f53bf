// The ask → validate → (once) ask again with the error → give up loop, shared by the remote
// oracle and the local judge's generate mode.
import type { StepLabel, Trajectory } from '../data/trajectory.ts';
import { buildRepairMessages, buildSelectorMessages, type ChatMessage } from './selector-prompt.ts';
import { validateReply } from './validate.ts';
import type { ChatOutcome } from './oracle.ts';

export type SelectOutcome =
  | { ok: true; plan?: string; critical: StepLabel[]; repairs: string[]; usage: { prompt: number; completion: number } }
  | { ok: false; error: string };

export type Complete = (messages: ChatMessage[]) => Promise<ChatOutcome>;

export async function askForSelection(complete: Complete, t: Trajectory, budget: number): Promise<SelectOutcome> {
  const messages = buildSelectorMessages(t, budget);
  const usage = { prompt: 0, completion: 0 };
  const first = await complete(messages);
  if (!first.ok) return { ok: false, error: `request failed: ${first.error}` };
  usage.prompt += first.usage.prompt;
  usage.completion += first.usage.completion;
  const checked = validateReply(first.content, t.steps.length, budget);
  if (checked.ok) return { ...checked, usage };

  const second = await complete(buildRepairMessages(messages, first.content, checked.error));
  if (!second.ok) return { ok: false, error: `first reply unusable (${checked.error}); the retry request failed: ${second.error}` };
  usage.prompt += second.usage.prompt;
  usage.completion += second.usage.completion;
  const rechecked = validateReply(second.content, t.steps.length, budget);
  if (!rechecked.ok) {
    return { ok: false, error: `reply unusable twice: first ${checked.error}; then ${rechecked.error} (the last reply began ${excerpt(second.content)})` };
  }
  return { ...rechecked, repairs: [`first reply unusable (${checked.error}); asked again with the error`, ...rechecked.repairs], usage };
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 80 ? t.slice(0, 80) + '...' : t);
}
