// Exporters: trajectories → the formats at-scale trainers read. The supervised turns are the
// steps an arm chooses (default: the critical arm, i.e. the active selection), and each format
// marks exactly those:
//   openai        {"messages":[…]} with weight 1 on selected assistant turns, 0 on the others
//   agentgym      {"item_id", "conversations":[{from, value, loss}]}; loss true on selected turns
//   axolotl       {"id", "messages":[{role, content, train}]}; set message_field_training: train
//   llamafactory  ShareGPT, one sample per selected step ending at it (+ dataset_info.json entry)
//   torchtune     {"id", "messages":[{role, content, masked}]}; masked false on exactly the selected turns
//   labels        one line per trajectory: selected steps, categories, reasons, selector, budget
// Built-in demonstrations of the held-out split are left out unless asked for (exportSplit.ts);
// when included, their records carry "split": "held-out" (all formats but openai, whose
// fine-tuning files hold only "messages").
import { armSteps, type Arm, type ArmOptions } from './arms.ts';
import { labelsRecord } from './labels.ts';
import { agentTurnText, type AgentTextStyle } from './agentText.ts';
import { chooseSplit, isHeldOut, type ExportSplit, type SplitChoice } from './exportSplit.ts';
import type { Trajectory } from './trajectory.ts';

export { EXPORT_SPLITS, type ExportSplit, type SplitChoice } from './exportSplit.ts';

export const EXPORT_FORMATS = ['openai', 'agentgym', 'axolotl', 'llamafactory', 'torchtune', 'labels'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions extends ArmOptions {
  /** Which steps are supervised (default 'critical'). */
  arm?: Arm;
  /** Dataset name for LLaMA-Factory's dataset_info.json (default "atlas_critical"). */
  datasetName?: string;
  /** Output file name, for the dataset_info.json entry. */
  fileName?: string;
  /** How agent turns are written (default 'as-written'). */
  agentText?: AgentTextStyle;
  /** Which built-in split to export (default 'held-in': held-out demonstrations are left out). */
  split?: ExportSplit;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Step index of an assistant message that is a step (absent for the preamble's acknowledgement). */
  step?: number;
}

/** The trajectory as alternating chat messages. A step's observation is always emitted except an
 *  empty one after the last step, so that re-importing gives the same steps. */
export function trajectoryMessages(t: Trajectory, agentText: AgentTextStyle = 'as-written'): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (t.system !== undefined) out.push({ role: 'system', content: t.system });
  for (const p of t.preamble ?? []) out.push({ role: p.role === 'agent' ? 'assistant' : 'user', content: p.text });
  if (t.instruction !== '' || t.preamble?.length) out.push({ role: 'user', content: t.instruction });
  t.steps.forEach((s, i) => {
    out.push({ role: 'assistant', content: agentTurnText(s, agentText), step: i });
    if (i < t.steps.length - 1 || s.observation !== '') out.push({ role: 'user', content: s.observation });
  });
  return out;
}

export interface ExportResult {
  /** The main file's content (JSONL). */
  text: string;
  /** Side files by name suffix (e.g. LLaMA-Factory's dataset_info.json). */
  sideFiles: Record<string, string>;
  /** LLaMA-Factory's dataset entry (name → entry), to merge into an existing dataset_info.json
   *  (mergeDatasetInfo in datasetInfo.ts) instead of replacing it. */
  datasetInfo?: Record<string, Record<string, unknown>>;
  records: number;
  /** Trajectories exported (after the split rule). */
  trajectories: number;
  /** Trajectories where the arm selects no step (nothing to learn from in that export). */
  withoutSelectedSteps: string[];
  /** What the split rule did: held-out trajectories left out, or included and marked. */
  split: SplitChoice;
}

function selected(t: Trajectory, opts: ExportOptions): Set<number> {
  return new Set(armSteps(opts.arm ?? 'critical', t, opts));
}

export function toOpenAI(t: Trajectory, sel: Set<number>, agentText: AgentTextStyle = 'as-written') {
  return {
    messages: trajectoryMessages(t, agentText).map((m) => (m.role === 'assistant' ? { role: m.role, content: m.content, weight: m.step !== undefined && sel.has(m.step) ? 1 : 0 } : { role: m.role, content: m.content })),
  };
}

export function toAgentGym(t: Trajectory, sel: Set<number>, agentText: AgentTextStyle = 'as-written') {
  return {
    item_id: t.id,
    conversations: trajectoryMessages(t, agentText).map((m) => ({
      from: m.role === 'assistant' ? 'gpt' : m.role === 'user' ? 'human' : 'system',
      value: m.content,
      loss: m.role === 'assistant' ? m.step !== undefined && sel.has(m.step) : null,
    })),
  };
}

export function toAxolotl(t: Trajectory, sel: Set<number>, agentText: AgentTextStyle = 'as-written') {
  return {
    id: t.id,
    messages: trajectoryMessages(t, agentText).map((m) => ({ role: m.role, content: m.content, train: m.role === 'assistant' && m.step !== undefined && sel.has(m.step) })),
  };
}

/** torchtune Messages: every message carries its own `masked` flag, false on exactly the selected
 *  agent turns (read by the atlas_torchtune.py dataset builder the CLI writes beside the file,
 *  src/data/recipes/torchtune.ts). torchtune wants a user turn before the first assistant turn,
 *  so an empty (masked) one is added when the conversation would start with the agent, and two
 *  user turns in a row are joined. A trajectory with no selected step gives no record: an
 *  all-masked sample has no loss to average. */
export function toTorchtune(t: Trajectory, sel: Set<number>, agentText: AgentTextStyle = 'as-written') {
  if (sel.size === 0) return [];
  const msgs = trajectoryMessages(t, agentText);
  const firstTurn = msgs.findIndex((m) => m.role !== 'system');
  if (firstTurn >= 0 && msgs[firstTurn].role === 'assistant') msgs.splice(firstTurn, 0, { role: 'user', content: '' });
  const messages: { role: ChatMessage['role']; content: string; masked: boolean }[] = [];
  for (const m of msgs) {
    const masked = !(m.role === 'assistant' && m.step !== undefined && sel.has(m.step));
    const prev = messages[messages.length - 1];
    // Two user turns in a row (a preamble ending with one) are one turn to torchtune.
    if (prev && prev.role === 'user' && m.role === 'user') prev.content = `${prev.content}\n\n${m.content}`;
    else messages.push({ role: m.role, content: m.content, masked });
  }
  return [{ id: t.id, messages }];
}

/** One ShareGPT sample per selected step, the conversation ending at that step's agent turn. */
export function toLlamaFactory(t: Trajectory, sel: Set<number>, agentText: AgentTextStyle = 'as-written') {
  const msgs = trajectoryMessages(t, agentText);
  const system = msgs[0]?.role === 'system' ? msgs.shift()!.content : undefined;
  // ShareGPT wants a human turn first.
  if (msgs[0]?.role !== 'user') msgs.unshift({ role: 'user', content: '' });
  return [...sel]
    .sort((a, b) => a - b)
    .map((k) => {
      const end = msgs.findIndex((m) => m.step === k);
      return {
        id: `${t.id}#step${k}`,
        conversations: msgs.slice(0, end + 1).map((m) => ({ from: m.role === 'assistant' ? 'gpt' : 'human', value: m.content })),
        ...(system !== undefined && { system }),
      };
    });
}

export function llamaFactoryDatasetInfo(name: string, fileName: string) {
  return {
    [name]: {
      file_name: fileName,
      formatting: 'sharegpt',
      columns: { messages: 'conversations', system: 'system' },
      tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' },
      // LLaMA-Factory reads mask_history as a data argument of the training run; it is repeated here
      // so the entry documents how the samples must be trained (see the <out>.train.yaml side file).
      mask_history: true,
    },
  };
}

/** The records of one trajectory in each format (a registry, one entry per format). */
const WRITERS: Record<ExportFormat, (t: Trajectory, sel: Set<number>, opts: ExportOptions) => object[]> = {
  openai: (t, sel, o) => [toOpenAI(t, sel, o.agentText)],
  agentgym: (t, sel, o) => [toAgentGym(t, sel, o.agentText)],
  axolotl: (t, sel, o) => [toAxolotl(t, sel, o.agentText)],
  llamafactory: (t, sel, o) => toLlamaFactory(t, sel, o.agentText),
  torchtune: (t, sel, o) => toTorchtune(t, sel, o.agentText),
  labels: (t, sel, o) => [labelsRecord(t, [...sel].sort((a, b) => a - b), o)],
};
/** Formats whose records can carry an extra "split" key (OpenAI's fine-tuning files cannot). */
const MARKABLE: ReadonlySet<ExportFormat> = new Set(['agentgym', 'axolotl', 'llamafactory', 'torchtune', 'labels']);

export function exportTrajectories(ts: Iterable<Trajectory>, format: ExportFormat, opts: ExportOptions = {}): ExportResult {
  const lines: string[] = [];
  const without: string[] = [];
  const { trajectories, choice } = chooseSplit(ts, opts.split);
  for (const t of trajectories) {
    const sel = selected(t, opts);
    if (sel.size === 0) without.push(t.id);
    const mark = isHeldOut(t) && MARKABLE.has(format);
    for (const r of WRITERS[format](t, sel, opts)) lines.push(JSON.stringify(mark ? { ...r, split: 'held-out' } : r));
  }
  const records = lines.length;
  const sideFiles: Record<string, string> = {};
  let datasetInfo: ExportResult['datasetInfo'];
  if (format === 'llamafactory') {
    const name = opts.datasetName ?? 'atlas_critical';
    datasetInfo = llamaFactoryDatasetInfo(name, opts.fileName ?? 'data.jsonl');
    sideFiles['dataset_info.json'] = JSON.stringify(datasetInfo, null, 2) + '\n';
    sideFiles['train.yaml'] = `# Train only the last assistant turn of each sample (one sample per selected step).\ndataset: ${name}\nmask_history: true\n`;
  }
  return { text: lines.map((l) => l + '\n').join(''), sideFiles, ...(datasetInfo && { datasetInfo }), records, trajectories: trajectories.length, withoutSelectedSteps: without, split: choice };
}
