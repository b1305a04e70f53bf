// Rendering a trajectory as training tokens: a chat layout (BOS, then for each turn: role
// header, content, end-of-turn token), each piece tokenized on its own so that every token
// belongs to exactly one segment — a role header, the system text, the preamble, the
// instruction, an agent turn of step i, its end-of-turn token, or an observation.
// Segment-wise encoding keeps masks exact; tokenizers that prepend a space to every encode
// call (SentencePiece "▁") therefore show one at the start of each segment.
import { trajectoryMessages } from './export.ts';
import type { ChatRole, TextTokenizer } from './tokenize.ts';
import type { Trajectory } from './trajectory.ts';
import type { AgentTextStyle } from './agentText.ts';

export type SegmentKind = 'bos' | 'header' | 'system' | 'preamble' | 'instruction' | 'agent' | 'eot' | 'separator' | 'observation';

export interface Segment {
  kind: SegmentKind;
  /** Step index for agent, eot (of an agent turn) and observation segments. */
  step?: number;
  role?: ChatRole;
  text: string;
  /** First token index and token count in the rendered sequence. */
  start: number;
  length: number;
}

export interface StepSpan {
  /** First token of the step's agent header. */
  start: number;
  /** Agent content tokens [agentStart, eotEnd) including the end-of-turn token. */
  agentStart: number;
  eotEnd: number;
  /** One past the last token of the step (its observation turn included). */
  end: number;
}

export interface RenderedTrajectory {
  trajectoryId: string;
  ids: Int32Array;
  segments: Segment[];
  /** Tokens [0, prefixEnd): BOS, system, preamble and instruction — kept in every window. */
  prefixEnd: number;
  steps: StepSpan[];
  /** The marker a window (or an evaluation prompt) puts between the prefix and what is left
   *  of the history when it leaves early steps out (omittedMarkerIds). */
  omitted: Int32Array;
}

/** Said, as a user turn, where a window leaves early steps out. Without it, a history cut
 *  right after the instruction reads exactly like the start of an episode, and a model learns
 *  to open episodes with mid-episode turns instead of a plan. */
export const OMITTED_TEXT = '(earlier steps left out)';

export function omittedMarkerIds(tok: TextTokenizer): number[] {
  const afterEot = tok.chat.afterEot ? tok.encode(tok.chat.afterEot) : [];
  return [...tok.encode(tok.chat.header.user), ...tok.encode(OMITTED_TEXT), tok.chat.eotId, ...afterEot];
}

export function renderTrajectory(t: Trajectory, tok: TextTokenizer, agentText: AgentTextStyle = 'as-written'): RenderedTrajectory {
  const ids: number[] = [];
  const segments: Segment[] = [];
  const push = (kind: SegmentKind, text: string, tokens: number[], extra: Partial<Segment> = {}) => {
    if (tokens.length === 0) return;
    segments.push({ kind, text, start: ids.length, length: tokens.length, ...extra });
    for (const id of tokens) ids.push(id);
  };
  const headerIds = new Map<ChatRole, number[]>();
  const header = (role: ChatRole) => {
    let h = headerIds.get(role);
    if (!h) headerIds.set(role, (h = tok.encode(tok.chat.header[role])));
    return h;
  };
  const afterEot = tok.chat.afterEot ? tok.encode(tok.chat.afterEot) : [];
  if (tok.bosId !== undefined) push('bos', '', [tok.bosId]);
  const steps: StepSpan[] = [];
  let prefixEnd = -1;
  const messages = trajectoryMessages(t, agentText);
  let preambleLeft = t.preamble?.length ?? 0;
  for (const m of messages) {
    const isStep = m.role === 'assistant' && m.step !== undefined;
    if (isStep && prefixEnd < 0) prefixEnd = ids.length;
    const start = ids.length;
    push('header', tok.chat.header[m.role], header(m.role), { role: m.role });
    let kind: SegmentKind;
    if (m.role === 'system') kind = 'system';
    else if (isStep) kind = 'agent';
    else if (prefixEnd >= 0) kind = 'observation';
    else if (preambleLeft > 0) {
      kind = 'preamble';
      preambleLeft--;
    } else kind = 'instruction';
    const step = isStep ? m.step : kind === 'observation' ? steps.length - 1 : undefined;
    const agentStart = ids.length;
    push(kind, m.content, tok.encode(m.content), { role: m.role, ...(step !== undefined && { step }) });
    push('eot', tok.chat.eotText, [tok.chat.eotId], { role: m.role, ...(isStep && { step }) });
    if (isStep) steps.push({ start, agentStart, eotEnd: ids.length, end: ids.length });
    push('separator', tok.chat.afterEot, afterEot);
    if (kind === 'observation' || isStep) steps[steps.length - 1].end = ids.length;
  }
  if (prefixEnd < 0) prefixEnd = ids.length;
  return { trajectoryId: t.id, ids: Int32Array.from(ids), segments, prefixEnd, steps, omitted: Int32Array.from(omittedMarkerIds(tok)) };
}

/** Decoded text of each token, for display. Tokens are grouped so a multi-byte character split
 *  across tokens appears on the token that completes it, and each group's text is read as the
 *  difference it makes after the previous group, so decoders that treat a first token specially
 *  (SentencePiece's leading-space strip) still show the spaces between words. */
export function tokenTexts(ids: ArrayLike<number>, tok: TextTokenizer): string[] {
  const out: string[] = new Array(ids.length).fill('');
  let prev: number[] = [];
  let i = 0;
  while (i < ids.length) {
    let group = [ids[i]];
    while (tok.decode(group).includes('\uFFFD') && i + group.length < ids.length && group.length < 4) group = [...group, ids[i + group.length]];
    const alone = tok.decode(group);
    let text = alone;
    if (prev.length) {
      const before = tok.decode(prev);
      const both = tok.decode([...prev, ...group]);
      if (both.startsWith(before)) text = both.slice(before.length);
    }
    out[i + group.length - 1] = text;
    prev = group;
    i += group.length;
  }
  return out;
}
