// Chat-style records (AgentGym, ShareGPT, Agent-FLAN, OpenAI, Axolotl) → one Trajectory.
// Every format is first reduced to a list of turns {role, text, flag}; this module turns
// that list into instruction + steps with one set of rules, written down in docs/data.md:
//   - leading system turns become `system`;
//   - consecutive turns of the same role are merged (joined by a blank line) and a note says so;
//   - the first user turn is the instruction; if the agent then only acknowledges it
//     ("Ok.", AgentGym's opening) and another user turn follows, the first two turns become
//     the `preamble` and that next user turn is the instruction (the acknowledgement is not a step);
//   - each later agent turn is a step, and the user turn after it is its observation;
//   - per-turn flags (loss / weight / train) on agent turns become a Selection "import:<key>".
import { splitAgentText } from './agentText.ts';
import { TRAJECTORY_VERSION, type Selection, type Step, type Trajectory } from './trajectory.ts';

export type TurnRole = 'system' | 'user' | 'agent';

export interface Turn {
  role: TurnRole;
  text: string;
  /** The record's own training flag for this turn, when it has one. */
  flag?: boolean;
  /** Which key carried the flag: "loss", "weight" or "train". */
  flagKey?: string;
}

export interface TrajectoryBase {
  id: string;
  source: Trajectory['source'];
  system?: string;
  env?: string;
  taskType?: string;
  extra?: Record<string, unknown>;
  importedAt: string;
}

const ACKNOWLEDGEMENT = /^\s*(ok|okay|sure|understood|got it|alright|i understand)\s*[.!]?\s*$/i;

export function isAcknowledgement(text: string): boolean {
  return ACKNOWLEDGEMENT.test(text);
}

/** Builds the trajectory, or returns the reason it cannot be one. */
export function turnsToTrajectory(input: Turn[], base: TrajectoryBase): Trajectory | { reason: string } {
  const notes: string[] = [];
  let turns = input.slice();
  const systems: string[] = [];
  while (turns.length && turns[0].role === 'system') systems.push(turns.shift()!.text);
  if (systems.length > 1) notes.push(`${systems.length} leading system turns were joined`);
  const laterSystem = turns.filter((t) => t.role === 'system').length;
  if (laterSystem) {
    notes.push(`${laterSystem} system turn(s) after the start were read as user turns`);
    turns = turns.map((t) => (t.role === 'system' ? { ...t, role: 'user' } : t));
  }

  // Merge runs of one role.
  const merged: Turn[] = [];
  let mergeCount = 0;
  for (const t of turns) {
    const prev = merged[merged.length - 1];
    if (prev && prev.role === t.role) {
      mergeCount++;
      prev.text = prev.text + '\n\n' + t.text;
      if (t.flag !== undefined) {
        prev.flag = (prev.flag ?? false) || t.flag;
        prev.flagKey ??= t.flagKey;
      }
    } else merged.push({ ...t });
  }
  if (mergeCount) notes.push(`${mergeCount} turn(s) following a turn of the same role were merged into it`);

  let i = 0;
  let instruction = '';
  let preamble: Trajectory['preamble'];
  if (merged[0]?.role === 'user') {
    instruction = merged[0].text;
    i = 1;
    const ack = merged[1];
    if (ack?.role === 'agent' && ack.flag !== true && isAcknowledgement(ack.text) && merged[2]?.role === 'user' && merged[3]?.role === 'agent') {
      preamble = [
        { role: 'user', text: merged[0].text },
        { role: 'agent', text: ack.text },
      ];
      instruction = merged[2].text;
      i = 3;
    }
  } else if (merged.length) notes.push('the record starts with an agent turn: the instruction is empty');

  const steps: Step[] = [];
  const flags: (boolean | undefined)[] = [];
  let flagKey: string | undefined;
  let userFlags = 0;
  for (; i < merged.length; i++) {
    const t = merged[i];
    if (t.role !== 'agent') continue; // a user turn here was consumed as the previous step's observation
    const obs = merged[i + 1]?.role === 'user' ? merged[i + 1] : undefined;
    const step: Step = { agent: t.text, observation: obs?.text ?? '', ...splitAgentText(t.text) };
    steps.push(step);
    flags.push(t.flag);
    if (t.flag !== undefined) flagKey ??= t.flagKey;
    if (obs?.flag) userFlags++;
  }
  if (steps.length === 0) return { reason: 'no agent turn after the instruction (nothing to train on)' };
  if (userFlags) notes.push(`${userFlags} user turn(s) carried a true training flag; only agent turns can be supervised, so it was ignored`);
  const emptyAgent = steps.filter((s) => s.agent.trim() === '').length;
  if (emptyAgent) notes.push(`${emptyAgent} agent turn(s) are empty`);

  const selections: Selection[] = [];
  if (flagKey) {
    const unflagged = flags.filter((f) => f === undefined).length;
    if (unflagged) notes.push(`${unflagged} agent turn(s) had no "${flagKey}" flag and count as not selected`);
    selections.push({
      selector: `import:${flagKey}`,
      createdAt: base.importedAt,
      status: 'labelled',
      critical: flags.flatMap((f, step) => (f ? [{ step }] : [])),
    });
  }

  const systemText = systems.length ? systems.join('\n\n') : base.system;
  const t: Trajectory = {
    version: TRAJECTORY_VERSION,
    id: base.id,
    source: base.source,
    ...(base.env !== undefined && { env: base.env }),
    ...(base.taskType !== undefined && { taskType: base.taskType }),
    ...(systemText !== undefined && { system: systemText }),
    instruction,
    ...(preamble && { preamble }),
    steps,
    selections,
    provenance: { importedAt: base.importedAt, ...(notes.length && { notes }) },
    ...(base.extra && Object.keys(base.extra).length > 0 && { extra: base.extra }),
  };
  return t;
}
