// Step-level instruction records: {"input": <prompt: instructions, few-shot examples, the real
// task and the episode's history so far>, "output": <the agent's next step>} (KnowAgent and
// similar agent-tuning sets; also Alpaca's {"instruction", "input", "output"} and
// {"prompt", "completion"|"response"}). One record is one step of an episode, so:
//   - the few-shot examples are found and dropped (fewShot.ts); the instructions before them
//     become the system text;
//   - the real task + history + output is read as a ReAct transcript (react.ts), so the
//     history's steps and the output become the trajectory's steps;
//   - records of the same episode are grouped afterwards (episodes.ts): the longest history
//     + output is the trajectory.
// A record whose history and output have no agent turn is an ordinary instruction-tuning
// pair and is rejected with that reason (never imported as a one-step "trajectory").
import { splitFewShot } from './fewShot.ts';
import { readOutcome, outcomeWords } from './outcome.ts';
import { parseTranscript, transcriptStyle } from './reactTranscript.ts';
import { extraFields, oneImportedTrajectory, recordId, recordLabel, recordPrefix, type RecordOptions, type RecordResult, type Where } from './record.ts';

export const STEP_PAIR_FORMAT = 'step-pairs';
const PROMPT_KEYS = ['instruction', 'input', 'prompt'] as const;
const OUTPUT_KEYS = ['output', 'completion', 'response'] as const;

const stringKey = (record: Record<string, unknown>, keys: readonly string[]) => keys.find((k) => typeof record[k] === 'string');

/** An object with an output string and a prompt field (input / instruction / prompt). */
export function isStepPair(record: Record<string, unknown>): boolean {
  return stringKey(record, OUTPUT_KEYS) !== undefined && PROMPT_KEYS.some((k) => k in record);
}

const AGENT_START = /^[ \t]*(?:>|(?:thought|think|action|act)(?:[ \t]+\d+)?[ \t]*:)/i;

/** The episode text: the real task and history, then the output as the next agent turn. */
function joinOutput(episode: string, output: string): string {
  let history = episode.replace(/\s+$/, '');
  let next = output.replace(/^(?:[ \t]*\n)+/, '').replace(/\s+$/, '');
  // A prompt that ends with an empty ">" awaits the agent's line: the output is that line.
  const awaiting = /(?:^|\n)[ \t]*>[ \t]*$/.exec(history);
  if (awaiting) history = history.slice(0, awaiting.index);
  const promptStyle = awaiting !== null || transcriptStyle(history) === 'prompt';
  if (promptStyle && next !== '' && !AGENT_START.test(next)) next = `> ${next.trimStart()}`;
  return `${history}\n${next}`;
}

export function stepPairRecord(record: Record<string, unknown>, where: Where, opts: RecordOptions): RecordResult {
  const path = where.path ?? '$';
  const reject = (reason: string): RecordResult => ({ trajectories: [], rejected: [{ ...where, reason }] });
  const notText = PROMPT_KEYS.find((k) => k in record && typeof record[k] !== 'string' && record[k] !== null);
  if (notText) return reject(`${path}.${notText} must be a string (got ${Array.isArray(record[notText]) ? 'a list' : typeof record[notText]})`);
  const promptKeys = PROMPT_KEYS.filter((k) => typeof record[k] === 'string');
  const outKey = stringKey(record, OUTPUT_KEYS)!;
  const prompt = promptKeys.map((k) => (record[k] as string).trim()).filter((s) => s !== '').join('\n\n');
  const split = splitFewShot(prompt);
  const parsed = parseTranscript(joinOutput(split.episode, record[outKey] as string));
  const inFields = `"${promptKeys.join('" / "')}"`;
  const fields = `${inFields} and "${outKey}"`;
  if (!parsed) return reject(`${recordPrefix(where)}an input/output pair with no agent step: neither the prompt (${inFields}) nor the output ("${outKey}") has "> action" or "Thought:" / "Action:" lines (an instruction-tuning record, not an agent trajectory)`);
  if (parsed.instruction === '') return reject(`${recordPrefix(where)}an input/output pair with no task: expected the task before the first agent line of ${fields}`);
  if (!parsed.steps.some((s) => (s.action ?? '').trim() !== '' || (s.thought ?? '').trim() !== '')) return reject(`${recordPrefix(where)}an input/output pair whose ${fields} hold no agent turn with an action or thought`);
  const outcome = readOutcome(record, path);
  if ('error' in outcome) return reject(outcome.error);

  const notes = [...parsed.notes];
  if (split.demos > 0) notes.push(`${split.demos} few-shot example(s) in the prompt were dropped (they end at ${split.by}); the task after them is this trajectory's`);
  if (outcome.outcome && !outcome.outcome.success) notes.push(`the record's ${outcomeWords(outcome.outcome, outcome.key)} marks this run as failed`);
  const extra = extraFields(record, [...promptKeys, outKey, 'id']);
  return oneImportedTrajectory({
    id: recordId(record, opts.idHint),
    source: { format: STEP_PAIR_FORMAT, file: where.file, record: recordLabel(where) },
    ...(split.system !== undefined && { system: split.system }),
    instruction: parsed.instruction,
  }, parsed.steps, { importedAt: opts.importedAt, notes, outcome: outcome.outcome, extra });
}
