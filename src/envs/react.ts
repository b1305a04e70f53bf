// ReAct turn text: "Thought: …\nAction: …". One place formats it and one place parses
// model output back into an action.

export function formatReAct(thought: string, action: string): string {
  return `Thought: ${thought}\nAction: ${action}`;
}

export interface ParsedTurn {
  thought?: string;
  /** The action, or null when the text has no usable "Action:" line. */
  action: string | null;
}

/** Parses a model's turn. The action is the text after the first "Action:" up to the end of
 *  that line; a turn without one (or with an empty one) has action null, which the rollout
 *  treats as an invalid action. Text the model writes after the action line (e.g. an
 *  invented "Observation:") is ignored. */
export function parseReAct(text: string): ParsedTurn {
  const actionMatch = /(?:^|\n)\s*Action\s*:\s*([^\n]*)/i.exec(text);
  const thoughtMatch = /(?:^|\n)\s*Thought\s*:\s*([\s\S]*?)(?=\n\s*Action\s*:|$)/i.exec(text);
  const thought = thoughtMatch ? thoughtMatch[1].trim() : undefined;
  const action = actionMatch ? actionMatch[1].trim() : '';
  return { thought, action: action === '' ? null : action };
}
