// `atlas env list|demo|play|bench`: the built-in text environments.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from '../main.ts';
import { intOption, numberOption, parseCommandArgs, requireOption } from '../args.ts';
import { ENVIRONMENTS, getEnv } from '../../envs/registry.ts';
import { generateDemos } from '../../envs/demo.ts';
import { benchEnv } from '../../envs/bench.ts';
import { SPLITS, type Split } from '../../envs/types.ts';
import { trajectoriesToJsonl } from '../../data/jsonl.ts';
import { exportTrajectories } from '../../data/export.ts';

const USAGE = `usage:
  atlas env list
  atlas env demo --env <name> --n N [--seed S] [--split held-in|held-out] [--mistake-rate P] --out <trajectories.jsonl> [--agentgym <file.jsonl>]
  atlas env play --env <name> [--seed S] [--split held-in|held-out]
  atlas env bench [--env <name>] [--seconds T]`;

export function parseSplit(value: string | undefined, fallback: Split): Split {
  if (value === undefined) return fallback;
  if (!(SPLITS as readonly string[]).includes(value)) throw new Error(`--split must be held-in or held-out (got "${value}")`);
  return value as Split;
}

function list(): number {
  for (const e of ENVIRONMENTS) {
    console.log(`${e.name.padEnd(10)} ${e.summary}`);
    console.log(`${''.padEnd(10)} held-in:  ${e.taskTypes['held-in'].join(', ') || '(none)'}`);
    console.log(`${''.padEnd(10)} held-out: ${e.taskTypes['held-out'].join(', ')}`);
    console.log(`${''.padEnd(10)} split: ${e.splitNote}`);
  }
  return 0;
}

function demo(argv: string[]): number {
  const { values } = parseCommandArgs('env demo', argv, {
    env: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, split: { type: 'string' },
    'mistake-rate': { type: 'string' }, out: { type: 'string' }, agentgym: { type: 'string' },
  });
  const def = getEnv(requireOption('env demo', values.env, 'env'));
  const n = intOption('env demo', requireOption('env demo', values.n, 'n'), 'n', 0);
  if (n <= 0) throw new Error(`--n must be a positive integer (got ${n})`);
  const seed = intOption('env demo', values.seed, 'seed', 0);
  const split = parseSplit(values.split, def.taskTypes['held-in'].length ? 'held-in' : 'held-out');
  const mistakeRate = numberOption('env demo', values['mistake-rate'], 'mistake-rate', 0.15);
  if (mistakeRate < 0 || mistakeRate > 1) throw new Error(`--mistake-rate must be in [0, 1] (got ${mistakeRate})`);
  const out = requireOption('env demo', values.out, 'out');
  const ts = generateDemos(def, n, seed, split, { mistakeRate });
  writeFileSync(out, trajectoriesToJsonl(ts));
  const failed = ts.filter((t) => !t.outcome?.success).length;
  const steps = ts.reduce((a, t) => a + t.steps.length, 0);
  const roles = new Map<string, number>();
  for (const t of ts) for (const r of t.groundTruth ?? []) roles.set(r, (roles.get(r) ?? 0) + 1);
  console.log(`wrote ${ts.length} ${def.name} ${split} trajectories (seeds ${seed}..${seed + n - 1}, ${steps} steps, ${failed} failed) to ${out}`);
  console.log(`ground-truth roles: ${[...roles].map(([r, c]) => `${r} ${c}`).join(', ')}`);
  if (values.agentgym) {
    // The full arm: every agent turn has loss true (AgentTraj-style); critical-only exports go through `atlas export` after selection.
    // The split is the one asked for with --split (held-out records are marked "split": "held-out").
    const res = exportTrajectories(ts, 'agentgym', { arm: 'full', split: 'all' });
    writeFileSync(values.agentgym, res.text);
    console.log(`wrote ${res.records} AgentGym records to ${values.agentgym}`);
  }
  return failed ? 1 : 0;
}

async function play(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('env play', argv, { env: { type: 'string' }, seed: { type: 'string' }, split: { type: 'string' } });
  const def = getEnv(requireOption('env play', values.env, 'env'));
  const seed = intOption('env play', values.seed, 'seed', 0);
  const split = parseSplit(values.split, def.taskTypes['held-in'].length ? 'held-in' : 'held-out');
  const env = def.create();
  const task = def.sampleTask(seed, split);
  const start = env.reset(task);
  console.log(`[${def.name} ${split} ${task.taskType}, seed ${seed}; ${env.stepLimit} steps; "valid" lists the valid actions, "quit" ends]`);
  console.log(start.instruction);
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  const prompt = () => interactive && process.stdout.write('> ');
  prompt();
  let result = { done: false, success: false, reward: 0 };
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '') { prompt(); continue; }
    if (!interactive) console.log(`> ${line}`);
    if (line === 'quit' || line === 'exit') break;
    if (line === 'valid') { console.log(env.validActions().join('\n')); prompt(); continue; }
    const r = env.step(line);
    console.log(r.observation);
    result = r;
    if (r.done) break;
    prompt();
  }
  rl.close();
  console.log(result.done ? `[episode over: ${result.success ? 'success' : 'failure'}, reward ${result.reward.toFixed(3)}, ${env.steps} steps]` : `[stopped after ${env.steps} steps, task not done]`);
  return 0;
}

function bench(argv: string[]): number {
  const { values } = parseCommandArgs('env bench', argv, { env: { type: 'string' }, seconds: { type: 'string' } });
  const seconds = numberOption('env bench', values.seconds, 'seconds', 1);
  const defs = values.env ? [getEnv(values.env)] : ENVIRONMENTS;
  console.log('env         random steps/s   expert demos/s   expert steps/s');
  for (const d of defs) {
    const r = benchEnv(d, seconds);
    console.log(`${r.env.padEnd(10)}  ${r.stepsPerSecond.toFixed(0).padStart(14)}   ${r.demosPerSecond.toFixed(0).padStart(14)}   ${r.demoStepsPerSecond.toFixed(0).padStart(14)}`);
  }
  return 0;
}

export const command: Command = {
  summary: 'built-in text environments: list, demo (expert trajectories), play, bench',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    switch (sub) {
      case 'list': return list();
      case 'demo': return demo(rest);
      case 'play': return play(rest);
      case 'bench': return bench(rest);
      case undefined: case 'help': case '--help': case '-h': console.log(USAGE); return 0;
      default: throw new Error(`unknown subcommand "${sub}"\n${USAGE}`);
    }
  },
};
