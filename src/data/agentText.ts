// Splitting an agent turn into its thought and its action, where the text marks them:
//   "Thought: …\nAction: …" (AgentGym, ReAct), "Think: …", "think: …" (ALFWorld ReAct),
//   numbered variants ("Thought 2: …", "Act 2: …").
// Text with no marker keeps neither (the turn stays whole in `agent`).

const ACTION_LABEL = /^[ \t]*(?:action|act)(?:[ \t]+\d+)?[ \t]*:[ \t]*/gim;
const THOUGHT_LABEL = /^[ \t]*(?:thought|think|thinking|reasoning)(?:[ \t]+\d+)?[ \t]*:[ \t]*/i;

export interface AgentParts {
  thought?: string;
  action?: string;
}

export function splitAgentText(text: string): AgentParts {
  // The last "Action:" label that starts a line separates the action from what precedes it.
  let last: RegExpExecArray | null = null;
  ACTION_LABEL.lastIndex = 0;
  for (let m = ACTION_LABEL.exec(text); m; m = ACTION_LABEL.exec(text)) last = m;
  if (last) {
    const action = text.slice(last.index + last[0].length).trim();
    const before = text.slice(0, last.index).trim();
    const thought = before.replace(THOUGHT_LABEL, '').trim();
    const parts: AgentParts = {};
    if (thought) parts.thought = thought;
    if (action) parts.action = action;
    return parts;
  }
  const trimmed = text.trimStart();
  const t = THOUGHT_LABEL.exec(trimmed);
  if (t) {
    const thought = trimmed.slice(t[0].length).trim();
    return thought ? { thought } : {};
  }
  return {};
}

/** How an agent turn is written out for training or export:
 *  'as-written'      the turn exactly as imported (`step.agent`);
 *  'thought-action'  "Thought: …\nAction: …" from the split parts (the built-in environments'
 *                    format), falling back to the text as written when the turn has no parts. */
export type AgentTextStyle = 'as-written' | 'thought-action';
export const AGENT_TEXT_STYLES: readonly AgentTextStyle[] = ['as-written', 'thought-action'];

export function agentTurnText(step: { agent: string; thought?: string; action?: string }, style: AgentTextStyle = 'as-written'): string {
  if (style === 'as-written' || (step.thought === undefined && step.action === undefined)) return step.agent;
  const lines: string[] = [];
  if (step.thought !== undefined) lines.push(`Thought: ${step.thought}`);
  if (step.action !== undefined) lines.push(`Action: ${step.action}`);
  return lines.join('\n');
}
