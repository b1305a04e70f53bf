// A run's weights as one zipped folder that loads: from a checkpoint's flat parameters (what a
// reloaded page has) through config.json + model.safetensors + the tokenizer, zipped, unzipped
// to disk and opened with the same loader `atlas generate --model` uses.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { getPreset } from '../../../models/presets.ts';
import { buildParamLayout, packParams } from '../../../src/engine/params.ts';
import { initParams } from '../../../src/engine/model.ts';
import { hfFolderFiles } from '../../../src/engine/weights/hf.ts';
import { dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { modelFromFiles } from '../../../src/experiment/model-source.ts';
import type { Checkpoint } from '../../../src/experiment/checkpoint.ts';
import { baseModelName, checkpointTensors, configVocabSize, peftFolderFiles, zipFolder } from '../../../src/experiment/weights-zip.ts';
import { initLora, loraLayout, type LoraSpec } from '../../../src/engine/lora.ts';
import { loadPeftAdapter } from '../../../src/engine/weights/peft.ts';
import { memoryFolder } from '../../../src/engine/weights/file-source.ts';

describe('weights zip', () => {
  const config = getPreset('tiny').config;
  const tensors = initParams(config, 7);
  const flat = packParams(buildParamLayout(config), tensors);
  // Keyed as runKey(arm, trainSeed, firstSeed) keys them: the first seed by the arm alone.
  const checkpoint: Checkpoint = { key: 'exp-x', step: 8, savedAt: '2026-01-01T00:00:00Z', arms: { critical: flat, 'critical#2': flat.map((v) => v * 2) } };

  it('unpacks a run from a checkpoint, and refuses a missing run or another model', () => {
    expect(checkpointTensors(config, checkpoint, 'critical').get('model.norm.weight')).toEqual(tensors.get('model.norm.weight'));
    expect(checkpointTensors(config, checkpoint, 'critical#2').get('model.norm.weight')![0]).toBe(tensors.get('model.norm.weight')![0] * 2);
    expect(() => checkpointTensors(config, checkpoint, 'full')).toThrow(/holds no run "full" \(it holds critical, critical#2\)/);
    expect(() => checkpointTensors(getPreset('test').config, checkpoint, 'critical')).toThrow(/saved for another model/);
  });

  it('zips one folder that modelFromFiles opens with the same weights', async () => {
    const files = hfFolderFiles(config, checkpointTensors(config, checkpoint, 'critical'));
    expect(configVocabSize(files.get('config.json') as string)).toBe(config.vocabSize);
    files.set('tokenizer.json', readFileSync('models/default-tokenizer/tokenizer.json'));
    files.set('tokenizer_config.json', readFileSync('models/default-tokenizer/tokenizer_config.json'));
    const zip = zipFolder('run.critical', files);
    const entries = unzipSync(zip);
    expect(Object.keys(entries).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((n) => `run.critical/${n}`));
    const dir = mkdtempSync(join(tmpdir(), 'weights-zip-'));
    for (const [name, bytes] of Object.entries(entries)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    const loaded = await modelFromFiles(dirSource(join(dir, 'run.critical')));
    expect(loaded.model.config.dModel).toBe(config.dModel);
    expect(loaded.model.tensors!.get('model.layers.0.self_attn.q_proj.weight')).toEqual(tensors.get('model.layers.0.self_attn.q_proj.weight'));
    expect(loaded.tokenizer.vocabSize).toBe(1024);
  });

  it('a LoRA run: its adapter from a checkpoint as a PEFT folder that loads back with the same tensors', async () => {
    const spec: LoraSpec = { rank: 4, alpha: 8, targets: ['q', 'v', 'down'] };
    const adapter = initLora(config, spec, 3);
    const cp: Checkpoint = { key: 'exp-l', step: 3, savedAt: '2026-01-01T00:00:00Z', arms: { critical: packParams(loraLayout(config, spec), adapter) } };
    const fromCp = checkpointTensors(config, cp, 'critical', spec);
    expect(fromCp).toEqual(adapter);
    // read as a full model (the bug the merged export from a LoRA checkpoint had) or as another adapter: refused
    expect(() => checkpointTensors(config, cp, 'critical')).toThrow(/saved for another model/);
    expect(() => checkpointTensors(config, cp, 'critical', { ...spec, targets: ['q'] })).toThrow(/the LoRA adapter \(rank 4 on q\) needs \d+ — it was saved for another adapter or model/);
    const files = await peftFolderFiles(config, spec, fromCp, baseModelName({ kind: 'preset', name: 'tiny' }));
    expect([...files.keys()]).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const json = JSON.parse(new TextDecoder().decode(files.get('adapter_config.json') as Uint8Array)) as Record<string, unknown>;
    expect(json).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'], base_model_name_or_path: 'preset:tiny' });
    const folder = memoryFolder('adapter');
    for (const [name, data] of files) await folder.write(name, data);
    const back = await loadPeftAdapter(folder, config);
    expect(back.spec).toEqual(spec);
    expect(back.tensors).toEqual(adapter);
    expect([...back.tensors.keys()][0]).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
  });
});
