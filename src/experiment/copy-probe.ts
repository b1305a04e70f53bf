// A teacher-forced copying probe for base agents (docs/base-agent.md): on the explorer's
// episodes, how often is the model's most likely next token the name it has to copy from its
// context — the task's object into its plan, the goal into a crafting plan, the place it went
// to into the environment's reply? Success in rollouts needs these; loss averages hide them.
import type { Trainer } from '../engine/trainer.ts';
import { buildTrainingExamples } from '../data/masks.ts';
import { tokenTexts } from '../data/render.ts';
import type { ChatLayout, TextTokenizer } from '../data/tokenize.ts';
import { generateDemo } from '../envs/demo.ts';
import { getEnv } from '../envs/registry.ts';
import type { Split } from '../envs/types.ts';
import { EXPLORER_MISTAKE_RATE } from './pretrain-corpus.ts';

export interface CopyProbe {
  label: string;
  env: string;
  split: Split;
  /** Text right before the name to copy, in the tokenizer's chat layout; the token that
   *  starts the name is the target. */
  before: (chat: ChatLayout) => RegExp;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const COPY_PROBES: readonly CopyProbe[] = [
  { label: 'crafting: the goal into the plan ("To craft …")', env: 'crafting', split: 'held-out', before: () => /Thought: To craft / },
  { label: 'household: the task’s object into the plan ("find and take a …")', env: 'household', split: 'held-in', before: () => /find and take an? / },
  { label: 'household: the task’s object again, turns after the plan ("No … here.")', env: 'household', split: 'held-in', before: () => /Thought: No / },
  { label: 'household: the place just gone to, in the reply ("The …")', env: 'household', split: 'held-in', before: (chat) => new RegExp(`go to [a-z]+ \\d+${escape(chat.eotText + chat.afterEot + chat.header.user)}The `) },
  { label: 'household: the closed place into "open …"', env: 'household', split: 'held-in', before: () => /Action: open / },
  { label: 'grid: the goal into the plan ("My goal is to … the …")', env: 'grid', split: 'held-in', before: () => /My goal is to (?:go to|pick up) the / },
];

/** Probe episodes: seeds from here up, away from pretraining (10,000,000+), its validation
 *  (9,000,000+) and the experiments (< 1,000,000). */
export const COPY_PROBE_SEED_BASE = 9_100_000;

/** Positions k in `tokens` where a match of `before` ends and the next token starts (the
 *  name's first token, with or without its leading space). */
export function copyTargets(tokens: ArrayLike<number>, tokenizer: TextTokenizer, before: RegExp): number[] {
  const pieces = tokenTexts(tokens, tokenizer);
  const starts: number[] = [];
  let c = 0;
  for (const p of pieces) {
    starts.push(c);
    c += p.length;
  }
  const out: number[] = [];
  for (const m of pieces.join('').matchAll(new RegExp(before.source, 'g'))) {
    const at = m.index + m[0].length;
    // The token starting right at the name, else the one that carries its leading space.
    const exact = starts.indexOf(at);
    const k = exact >= 0 ? exact : starts.indexOf(at - 1);
    if (k > 0) out.push(k);
  }
  return out;
}

export interface CopyProbeResult {
  label: string;
  hits: number;
  total: number;
}

/** Top-1 accuracy of each probe over `episodes` explorer episodes (the first window of each,
 *  at most `contextLength` tokens: the trainer's maxSeqLen). */
export async function runCopyProbes(trainer: Trainer, tokenizer: TextTokenizer, opts: { episodes: number; contextLength: number }, probes: readonly CopyProbe[] = COPY_PROBES): Promise<CopyProbeResult[]> {
  const V = trainer.model.config.vocabSize;
  const { episodes, contextLength } = opts;
  const results: CopyProbeResult[] = [];
  for (const probe of probes) {
    const r = { label: probe.label, hits: 0, total: 0 };
    for (let i = 0; i < episodes; i++) {
      const t = generateDemo(getEnv(probe.env), COPY_PROBE_SEED_BASE + i, probe.split, { style: 'explorer', mistakeRate: EXPLORER_MISTAKE_RATE });
      const [e] = buildTrainingExamples([t], { arm: 'full', tokenizer, contextLength }).examples;
      const targets = e ? copyTargets(e.tokens, tokenizer, probe.before(tokenizer.chat)) : [];
      if (!targets.length) continue;
      const T = e.inputIds.length;
      const logits = await trainer.logits({ inputIds: e.inputIds, labels: e.labels, weights: e.weights, batch: 1, seqLen: T });
      for (const k of targets) {
        const row = logits.subarray((k - 1) * V, k * V);
        let best = 0;
        for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
        r.total++;
        if (best === e.tokens[k]) r.hits++;
      }
    }
    results.push(r);
  }
  return results;
}
