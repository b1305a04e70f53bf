// `atlas train`'s checkpoints: what a run killed at any moment needs to go on with
// `--resume` and end exactly as a run that never stopped — the trainable weights (the model's,
// or the LoRA adapter's), AdamW's moments and the step count, in <out>/checkpoint/
// (state.safetensors + state.json, written beside and renamed, so a kill mid-write keeps the
// previous one). The data order needs nothing stored: it is replayed from the seed.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Trainer } from '../engine/trainer.ts';
import { packParams, unpackParams } from '../engine/params.ts';
import { parseSafetensors, writeSafetensors } from '../engine/weights/safetensors.ts';

const FORMAT = 'atlas-train-checkpoint@1';

interface CheckpointState {
  format: typeof FORMAT;
  /** The options that decide the result (every option but --resume and --stop-after). */
  options: string[];
  step: number;
}

/** The command line without the options that do not change the result. */
export function decidingOptions(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--resume') continue;
    if (argv[i] === '--stop-after') {
      i++;
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

export const checkpointDir = (out: string) => path.join(out, 'checkpoint');

/** Saves the trainer's state after `step` (every step submitted must have finished). */
export async function saveTrainCheckpoint(out: string, argv: string[], trainer: Trainer, step: number): Promise<void> {
  const dir = checkpointDir(out);
  await mkdir(dir, { recursive: true });
  const params = packParams(trainer.trainable.layout, await trainer.trainable.readParams());
  const { m, v } = await trainer.readOptimizerState();
  const tensors = new Map([
    ['params', { shape: [params.length], data: params }],
    ['adam_m', { shape: [m.length], data: m }],
    ['adam_v', { shape: [v.length], data: v }],
  ]);
  const state: CheckpointState = { format: FORMAT, options: decidingOptions(argv), step };
  await writeFile(path.join(dir, 'state.safetensors.tmp'), writeSafetensors(tensors));
  await writeFile(path.join(dir, 'state.json.tmp'), JSON.stringify(state, null, 2) + '\n');
  await rename(path.join(dir, 'state.safetensors.tmp'), path.join(dir, 'state.safetensors'));
  await rename(path.join(dir, 'state.json.tmp'), path.join(dir, 'state.json'));
}

/** Refuses to start over an unfinished run's checkpoint without --resume. */
export function refuseOverwrite(out: string): void {
  if (existsSync(path.join(checkpointDir(out), 'state.json'))) {
    throw new Error(`${out} holds the checkpoint of an unfinished run: pass --resume to continue it, or choose another --out`);
  }
}

/** Loads the checkpoint into the trainer; returns the step it was saved after. */
export async function loadTrainCheckpoint(out: string, argv: string[], trainer: Trainer): Promise<number> {
  const dir = checkpointDir(out);
  const statePath = path.join(dir, 'state.json');
  if (!existsSync(statePath)) throw new Error(`--resume: no checkpoint in ${dir} (start without --resume)`);
  const state = JSON.parse(await readFile(statePath, 'utf8')) as CheckpointState;
  if (state.format !== FORMAT) throw new Error(`${statePath}: not an atlas train checkpoint`);
  const now = decidingOptions(argv);
  if (JSON.stringify(now) !== JSON.stringify(state.options)) {
    throw new Error(`--resume: the checkpoint was made with other options (${state.options.join(' ')}); resume with the same options`);
  }
  const tensorsPath = path.join(dir, 'state.safetensors');
  const st = parseSafetensors(await readFile(tensorsPath), tensorsPath);
  trainer.trainable.writeParams(unpackParams(trainer.trainable.layout, st.read('params')));
  trainer.writeOptimizerState({ m: st.read('adam_m'), v: st.read('adam_v') });
  trainer.stepCount = state.step;
  return state.step;
}

/** The run finished: its checkpoint is no longer needed. */
export async function removeTrainCheckpoint(out: string): Promise<void> {
  await rm(checkpointDir(out), { recursive: true, force: true });
}
