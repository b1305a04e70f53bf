// `atlas experiment --checkpoints DIR`: the experiment's checkpoints as files, one per
// configuration (named by a hash of its key): <hash>.json (step, counters) and
// <hash>.safetensors (every run's weights and AdamW moments). Written beside and renamed, so a
// process killed mid-write keeps the previous checkpoint.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, CheckpointStore } from '../experiment/checkpoint.ts';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from '../engine/weights/safetensors.ts';

export function fileCheckpointStore(dir: string): CheckpointStore {
  const base = (key: string) => path.join(dir, createHash('sha256').update(key).digest('hex').slice(0, 16));
  return {
    async save(cp) {
      await mkdir(dir, { recursive: true });
      const tensors = new Map<string, TensorToWrite>();
      const put = (name: string, data: Float32Array) => tensors.set(name, { shape: [data.length], data });
      for (const [run, data] of Object.entries(cp.arms)) put(`arms/${run}`, data);
      for (const [run, { m, v }] of Object.entries(cp.adam ?? {})) {
        put(`adam_m/${run}`, m);
        put(`adam_v/${run}`, v);
      }
      const { arms: _a, adam: _m, ...rest } = cp;
      const b = base(cp.key);
      await writeFile(b + '.safetensors.tmp', writeSafetensors(tensors));
      await writeFile(b + '.json.tmp', JSON.stringify(rest, null, 2) + '\n');
      await rename(b + '.safetensors.tmp', b + '.safetensors');
      await rename(b + '.json.tmp', b + '.json');
    },
    async load(key) {
      const b = base(key);
      if (!existsSync(b + '.json')) return undefined;
      const rest = JSON.parse(await readFile(b + '.json', 'utf8')) as Omit<Checkpoint, 'arms' | 'adam'>;
      const file = parseSafetensors(await readFile(b + '.safetensors'), b + '.safetensors');
      const arms: Checkpoint['arms'] = {};
      const adam: NonNullable<Checkpoint['adam']> = {};
      for (const { name } of file.entries) {
        const [kind, run] = [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)];
        if (kind === 'arms') arms[run] = file.read(name);
        else if (kind === 'adam_m') (adam[run] ??= { m: new Float32Array(), v: new Float32Array() }).m = file.read(name);
        else if (kind === 'adam_v') (adam[run] ??= { m: new Float32Array(), v: new Float32Array() }).v = file.read(name);
      }
      return { ...rest, arms, ...(Object.keys(adam).length ? { adam } : {}) };
    },
  };
}
