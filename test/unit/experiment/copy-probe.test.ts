// The copying probe finds, in rendered explorer episodes, exactly the tokens that start the
// names to be copied: the goal, the task's object, the place just gone to, the closed place.
import { describe, expect, it } from 'vitest';
import { COPY_PROBES, COPY_PROBE_SEED_BASE, copyTargets } from '../../../src/experiment/copy-probe.ts';
import { EXPLORER_MISTAKE_RATE } from '../../../src/experiment/pretrain-corpus.ts';
import { buildTrainingExamples } from '../../../src/data/masks.ts';
import { defaultTok, qwen3 } from '../data/tokenizers.ts';
import { generateDemo } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';


const householdObject = (instruction: string) => /Your task is to: (?:look at|\w+) (?:a |an |some |two |the )?(?:(?:clean|hot|cool) )?([a-z]+)/.exec(instruction)![1];

/** The name each probe's targets must start, read from the episode's own text (`before`:
 *  the decoded tokens up to the target). */
const expected: Record<string, (instruction: string, before: string) => string> = {
  crafting: (instruction) => /Goal: craft ([a-z ]+)\./.exec(instruction)![1],
  'household-plan': (instruction) => householdObject(instruction),
  'household-again': (instruction) => householdObject(instruction),
  reply: (_, before) => /[^]*go to ([a-z]+ \d+)\W[^]*?The ?$/.exec(before)![1],
  open: (_, before) => /[^]*The ([a-z]+ \d+) is closed[^]*?Action: open ?$/.exec(before)![1],
  grid: (instruction) => /Your goal: (?:go to|pick up) the (\w+)/.exec(instruction)![1],
};
const keys = ['crafting', 'household-plan', 'household-again', 'reply', 'open', 'grid'];

// The default tokenizer, and Qwen3's (a real chat template: <|im_end|>\n<|im_start|>user\n).
describe.each([['default', defaultTok], ['qwen3', qwen3]] as const)('copy probe targets, %s tokenizer', { timeout: 60_000 }, (_, makeTok) => {
  const tok = makeTok();
  COPY_PROBES.forEach((probe, i) => {
    it(probe.label, () => {
      let found = 0;
      for (let s = 0; s < 24; s++) {
        const t = generateDemo(getEnv(probe.env), COPY_PROBE_SEED_BASE + s, probe.split, { style: 'explorer', mistakeRate: EXPLORER_MISTAKE_RATE });
        const [e] = buildTrainingExamples([t], { arm: 'full', tokenizer: tok, contextLength: 512 }).examples;
        for (const k of copyTargets(e.tokens, tok, probe.before(tok.chat))) {
          const before = tok.decode(Array.from(e.tokens.slice(0, k)));
          const name = expected[keys[i]](t.instruction, before);
          const piece = tok.decode([e.tokens[k]]).trimStart();
          expect(piece.length).toBeGreaterThan(0);
          expect(name.startsWith(piece), `"${piece}" starts "${name}"`).toBe(true);
          found++;
        }
      }
      expect(found).toBeGreaterThanOrEqual(3);
    });
  });
});
