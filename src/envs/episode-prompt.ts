// The one place that turns an episode so far into the text a model continues. It goes through
// the data layer's trajectoryMessages (the same message sequence the exporters write), so
// a model trained on exported trajectories sees the same turn order at evaluation time.
// To match a different training renderer (e.g. a chat template), swap `renderMessages`.
import { trajectoryMessages, type ChatMessage } from '../data/export.ts';
import { TRAJECTORY_VERSION, type Step } from '../data/trajectory.ts';

export const PROMPT_ROLE_PREFIX: Record<ChatMessage['role'], string> = { system: 'System: ', user: 'Human: ', assistant: 'Assistant: ' };

/** Plain-text rendering: one "Role: text" block per message, blank line between, ending with
 *  the open "Assistant: " turn the model must write ("Thought: …\nAction: …"). */
export function renderMessages(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${PROMPT_ROLE_PREFIX[m.role]}${m.content}`).join('\n\n') + `\n\n${PROMPT_ROLE_PREFIX.assistant}`;
}

/** The prompt for the next agent turn of an episode: instruction, past turns and observations. */
export function renderEpisodePrompt(instruction: string, steps: readonly Step[]): string {
  const messages = trajectoryMessages({ version: TRAJECTORY_VERSION, id: 'episode', source: { format: 'rollout' }, instruction, steps: steps.slice(), selections: [] });
  return renderMessages(messages);
}
