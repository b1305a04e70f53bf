// Plain ReAct transcripts → instruction + steps. Two styles:
//   prompt style (ALFWorld ReAct/Reflexion):   "> think: …" / "> go to desk 1", each followed
//                                              by the environment's line(s) ("OK." after a thought)
//   labelled style (ReAct papers, ETO):        "Think:"/"Thought:" … "Action:"/"Act:" …
//                                              "Observation:"/"Obs:" … (optionally numbered)
// A step is one action with the thought(s) that led to it. A thought the environment only
// acknowledged ("OK." or nothing) joins the next action's step — so the ReAct and Act versions
// of one ALFWorld task have the same steps — and each such merge is recorded in `notes`.
import type { Step } from './trajectory.ts';

export interface ParsedTranscript {
  instruction: string;
  steps: Step[];
  notes: string[];
  style: 'prompt' | 'labelled';
}

// "> go to desk 1" (ALFWorld also has ">go to …"): after ">", a space or a letter. A ">" followed
// by anything else (">=20.19" in a package.json, "> " alone) is not an agent turn.
const PROMPT_LINE = /^>(?:[ \t]+(\S.*)|(\p{L}.*))$/u;
const THINK_PREFIX = /^think:[ \t]*/i;
// KnowAgent's "ActionPath: Start->Goto(shelf 1)" lines are the agent's own bookkeeping (its
// path through the action-knowledge graph), never an environment action: they count as
// reasoning, kept with their label, and join the next action's step.
const PATH_PREFIX = /^actionpath(?:[ \t]+\d+)?[ \t]*:/i;
const LABEL_LINE = /^[ \t]*(thought|think|actionpath|action|act|observation|obs)(?:[ \t]+\d+)?[ \t]*:[ \t]?(.*)$/i;
const ACK = /^(ok\.?|okay\.?)?$/i;

interface RawTurn {
  thought?: string;
  action?: string;
  /** The agent text as written (without the "> " prompt marker). */
  agent: string;
  observation: string;
}

/** Which style a text is written in, or null when it is not a ReAct transcript. */
export function transcriptStyle(text: string): 'prompt' | 'labelled' | null {
  const lines = text.split('\n');
  const prompt = lines.filter((l) => PROMPT_LINE.test(l)).length;
  const labelled = lines.filter((l) => {
    const m = LABEL_LINE.exec(l);
    return m && /^(action|act)$/i.test(m[1]);
  }).length;
  if (prompt === 0 && labelled === 0) return null;
  return prompt >= labelled ? 'prompt' : 'labelled';
}

/** Joins acknowledged thought-only turns into the next action's step. */
function toSteps(turns: RawTurn[], notes: string[]): Step[] {
  const steps: Step[] = [];
  let thoughts: string[] = [];
  let agents: string[] = [];
  let merged = 0;
  for (const [i, turn] of turns.entries()) {
    const thoughtOnly = turn.action === undefined && turn.thought !== undefined;
    if (thoughtOnly && ACK.test(turn.observation.trim()) && i < turns.length - 1) {
      thoughts.push(turn.thought!);
      agents.push(turn.agent);
      merged++;
      continue;
    }
    const thought = [...thoughts, ...(turn.thought !== undefined ? [turn.thought] : [])].join('\n');
    const step: Step = { agent: [...agents, turn.agent].join('\n'), observation: turn.observation };
    if (thought) step.thought = thought;
    if (turn.action !== undefined) step.action = turn.action;
    steps.push(step);
    thoughts = [];
    agents = [];
  }
  if (merged) notes.push(`${merged} thought turn(s) answered only by "OK." joined the following action's step`);
  return steps;
}

/** Real transcripts sometimes put a thought between an action and its observation:
 *  "> take pan 1" / "> think: …" / "OK." / "You pick up the pan 1". The lines after the "OK."
 *  belong to the action; move them back (and say so) so the thought is a plain acknowledgement. */
function repairDelayedObservations(turns: RawTurn[], notes: string[]) {
  for (let i = 0; i + 1 < turns.length; i++) {
    const [act, next] = [turns[i], turns[i + 1]];
    if (act.action === undefined || act.observation !== '' || next.action !== undefined) continue;
    const m = /^(ok\.?|okay\.?)\n([\s\S]+)$/i.exec(next.observation);
    if (!m) continue;
    act.observation = m[2].trim();
    next.observation = m[1];
    notes.push(`the observation of "${act.agent}" came after a thought's "OK."; it was moved back to that action`);
  }
}

function parsePromptStyle(lines: string[], notes: string[]): { instruction: string; steps: Step[] } {
  const first = lines.findIndex((l) => PROMPT_LINE.test(l));
  const instruction = lines.slice(0, first).join('\n').trim();
  const turns: RawTurn[] = [];
  for (let i = first; i < lines.length; ) {
    const m = PROMPT_LINE.exec(lines[i])!;
    const agent = (m[1] ?? m[2]).trim();
    const obs: string[] = [];
    for (i++; i < lines.length && !PROMPT_LINE.test(lines[i]); i++) obs.push(lines[i]);
    const observation = obs.join('\n').trim();
    if (THINK_PREFIX.test(agent)) turns.push({ agent, thought: agent.replace(THINK_PREFIX, '').trim(), observation });
    else if (PATH_PREFIX.test(agent)) turns.push({ agent, thought: agent, observation });
    else turns.push({ agent, action: agent, observation });
  }
  repairDelayedObservations(turns, notes);
  return { instruction, steps: toSteps(turns, notes) };
}

function parseLabelledStyle(lines: string[], notes: string[]): { instruction: string; steps: Step[] } {
  // The instruction is everything before the first thought or action (an "Observation:" line
  // there is part of the task's opening, as in ETO's transcripts).
  const first = lines.findIndex((l) => {
    const m = LABEL_LINE.exec(l);
    return m !== null && !/^obs/i.test(m[1]);
  });
  const instruction = lines.slice(0, first).join('\n').trim();
  // Group lines into labelled blocks; unlabelled lines continue the block above them.
  const blocks: { kind: 'thought' | 'action' | 'observation'; text: string[]; raw: string[] }[] = [];
  for (let i = first; i < lines.length; i++) {
    const m = LABEL_LINE.exec(lines[i]);
    if (m) {
      const label = m[1].toLowerCase();
      const kind = label.startsWith('th') || label === 'actionpath' ? 'thought' : label.startsWith('act') ? 'action' : 'observation';
      blocks.push({ kind, text: [label === 'actionpath' ? lines[i].trim() : m[2]], raw: [lines[i].trim()] });
    } else {
      blocks[blocks.length - 1].text.push(lines[i]);
      blocks[blocks.length - 1].raw.push(lines[i]);
    }
  }
  const turns: RawTurn[] = [];
  let cur: Omit<RawTurn, 'observation'> | null = null;
  const close = (observation: string) => {
    if (cur) turns.push({ ...cur, observation });
    cur = null;
  };
  for (const b of blocks) {
    const text = b.text.join('\n').trim();
    const raw = b.raw.join('\n').trim();
    if (b.kind === 'observation') {
      if (!cur) {
        // Two observations in a row: the second continues the first.
        const prev = turns[turns.length - 1];
        if (!prev) throw new Error('unreachable: an observation before the first agent turn is part of the instruction');
        prev.observation += (prev.observation ? '\n' : '') + text;
        notes.push(`consecutive observations after step ${turns.length} were joined`);
        continue;
      }
      close(text);
    } else if (b.kind === 'thought') {
      close('');
      cur = { agent: raw, thought: text };
    } else {
      const open: Omit<RawTurn, 'observation'> | null = cur;
      if (open && open.action !== undefined) close('');
      cur = cur ? { ...(cur as Omit<RawTurn, 'observation'>), agent: `${(cur as Omit<RawTurn, 'observation'>).agent}\n${raw}`, action: text } : { agent: raw, action: text };
    }
  }
  close('');
  return { instruction, steps: toSteps(turns, notes) };
}

/** Parses a transcript; null when the text has no agent turns in either style. */
export function parseTranscript(text: string): ParsedTranscript | null {
  const normalized = text.replace(/\r\n?/g, '\n');
  const style = transcriptStyle(normalized);
  if (!style) return null;
  const notes: string[] = [];
  const lines = normalized.split('\n');
  const { instruction, steps } = style === 'prompt' ? parsePromptStyle(lines, notes) : parseLabelledStyle(lines, notes);
  return { instruction, steps, notes, style };
}
