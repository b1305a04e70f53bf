// A run's model in the page's workers: its starting weights and tokenizer (the experiment
// worker trains from them), and the files of its tokenizer (saved beside exported weights so
// the folder loads on its own). Preset models come from the bundle, URL models by fetch, picked
// folders from IndexedDB (src/store/models.ts), models downloaded from the hub from OPFS
// (src/hub/opfs-folder.ts).
import { getPreset } from '../models/presets.ts';
import { fileListSource, urlSource, type FileSource } from '../src/engine/weights/file-source.ts';
import { bundledModelBrowser } from '../src/experiment/bundled-models-browser.ts';
import { modelFromFiles, presetModel, type ModelWithTokenizer } from '../src/experiment/model-source.ts';
import { BadInputError } from '../src/experiment/run-events.ts';
import type { ExperimentConfig, ModelSource } from '../src/experiment/protocol.ts';
import { tokenizerFileNames } from '../src/experiment/tokenizer-files.ts';
import { loadModelFiles } from '../src/store/models.ts';
import { hubRefText, refFromStoreKey } from '../src/hub/hub-id.ts';
import { cachedHubFiles } from '../src/hub/opfs-folder.ts';

/** A stored model's files as a source, and the llama2.c checkpoint among them (if any): a
 *  picked folder from IndexedDB, or a model downloaded from the hub (key "hub:…") from OPFS. */
async function storedSource(src: Extract<ModelSource, { kind: 'stored' }>): Promise<{ files: FileSource; binName?: string }> {
  const hub = refFromStoreKey(src.key);
  if (hub) {
    const files = await cachedHubFiles(hub).catch((err: Error) => Promise.reject(new BadInputError(err.message)));
    return { files: fileListSource(files, `hub model ${hubRefText(hub)}`) };
  }
  const stored = await loadModelFiles(src.key);
  if (!stored) throw new BadInputError(`the stored model "${src.label}" is no longer in this browser's storage`);
  const files = stored.files.map((f) => new File([f.blob], f.path.split('/').pop()!));
  const bin = files.find((f) => f.name.endsWith('.bin') && !/^tok(\d+|enizer)\.bin$/.test(f.name));
  return { files: fileListSource(files, src.label), binName: bin?.name };
}

export async function resolveModel(config: ExperimentConfig): Promise<ModelWithTokenizer> {
  const src = config.model;
  if (src.kind === 'preset') return presetModel(src.name, bundledModelBrowser);
  if (src.kind === 'url') return modelFromFiles(urlSource(src.url));
  const { files, binName } = await storedSource(src);
  return modelFromFiles(files, binName);
}

/**
 * The tokenizer files a run's model trained with: for a preset the bundled default tokenizer
 * (or, for a preset with shipped weights, the tokenizer beside them); for a URL or a picked
 * folder the files the loader read (tokenizerFileNames).
 */
export async function tokenizerFiles(model: ModelSource, vocabSize: number): Promise<{ name: string; bytes: Uint8Array }[]> {
  let src: FileSource;
  let binName: string | undefined;
  if (model.kind === 'preset') {
    const p = getPreset(model.name);
    if (!p.weights) {
      const [tok, cfg] = await Promise.all([import('../models/default-tokenizer/tokenizer.json?raw'), import('../models/default-tokenizer/tokenizer_config.json?raw')]);
      const enc = new TextEncoder();
      return [
        { name: 'tokenizer.json', bytes: enc.encode(tok.default) },
        { name: 'tokenizer_config.json', bytes: enc.encode(cfg.default) },
      ];
    }
    src = bundledModelBrowser(p.weights);
  } else if (model.kind === 'url') src = urlSource(model.url);
  else ({ files: src, binName } = await storedSource(model));
  const names = await tokenizerFileNames(src, vocabSize, binName);
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await src.read(name)) })));
}
