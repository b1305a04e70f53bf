// The selector prompt: the project's own wording of the ATLaS selection task, versioned so a
// cached or exported selection says exactly which instructions produced it.
import type { Trajectory, CriticalCategory } from '../data/trajectory.ts';
import { budgetCount } from '../data/arms.ts';

/** Bump whenever the wording or the reply schema changes: it is part of the cache key. */
export const PROMPT_VERSION = 'atlas-select/1';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One-line definitions of the four categories, in the order the prompt lists them. */
export const CATEGORY_DEFINITIONS: Readonly<Record<CriticalCategory, string>> = {
  plan: 'the agent lays out sub-goals or a route to finishing the task',
  observation: "the agent notices and interprets information in the environment's feedback that changes what it should do next",
  action: 'an action that decisively moves the task forward and has to be exactly right',
  'self-correction': 'after a failure or a poor result the agent reviews what went wrong and changes course',
};

export const SYSTEM_TEXT =
  'You annotate demonstrations of a text agent for training. You mark the few steps that matter and leave routine steps unmarked. You answer with one JSON object and nothing else.';

/** Step text as the selector sees it: "Step k" with the agent turn and what the environment said. */
export function formatSteps(t: Trajectory): string {
  return t.steps
    .map((s, i) => {
      const obs = s.observation.trim() === '' ? '(no reply)' : s.observation.trim();
      return `Step ${i}\nAgent: ${s.agent.trim()}\nEnvironment: ${obs}`;
    })
    .join('\n\n');
}

/** The budget sentence uses the same count the validator enforces (budgetCount in src/data/arms.ts). */
export function buildSelectorMessages(t: Trajectory, budget: number): ChatMessage[] {
  const k = budgetCount(t.steps.length, budget);
  const categories = (Object.keys(CATEGORY_DEFINITIONS) as CriticalCategory[])
    .map((c) => `- "${c}": ${CATEGORY_DEFINITIONS[c]}`)
    .join('\n');
  const user = [
    'Below is a task given to an agent and the steps it took, numbered from 0. Each step is the agent\'s turn (its reasoning and action) followed by the environment\'s reply.',
    '',
    'First, write a short high-level plan for the task as a list of sub-goals. Then, measured against those sub-goals, find the critical steps: the few steps that decide whether the task succeeds. A step is not critical if it could be reordered or changed without affecting the outcome, or if any competent agent would take it anyway.',
    '',
    'A critical step belongs to one of four categories:',
    categories,
    '',
    `Choose at most ${k} of the ${t.steps.length} steps, most important first. Give each its category and a reason of one line.`,
    '',
    'Reply with exactly this JSON shape:',
    '{"plan": "<sub-goals, one short sentence each>", "critical": [{"step": <step number>, "category": "plan" | "observation" | "action" | "self-correction", "reason": "<one line>"}]}',
    '',
    ...(t.system?.trim() ? [`The agent's system text:\n${t.system.trim()}`, ''] : []),
    `Task:\n${t.instruction.trim()}`,
    '',
    formatSteps(t),
  ].join('\n');
  return [
    { role: 'system', content: SYSTEM_TEXT },
    { role: 'user', content: user },
  ];
}

/** The follow-up sent once when a reply could not be used: the error and a reminder of the shape. */
export function buildRepairMessages(first: ChatMessage[], reply: string, error: string): ChatMessage[] {
  return [
    ...first,
    { role: 'assistant', content: reply },
    {
      role: 'user',
      content: `Your reply could not be used: ${error}. Reply again with only the JSON object {"plan": "...", "critical": [{"step": <number>, "category": "...", "reason": "..."}]} and no other text.`,
    },
  ];
}

/** Rough token count (about four characters per token for English text); for estimates only. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimateMessageTokens(messages: readonly ChatMessage[]): number {
  // A few tokens of per-message framing, as chat templates add role headers.
  return messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
}
