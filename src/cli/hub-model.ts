// `--model hf:ORG/NAME[@REV]` wherever a command reads a model folder: before the command
// runs, the id is downloaded into the hub cache (src/hub/node-folder.ts; resumable, a cache
// hit makes no request) and the argument becomes that folder, so every command reads it as a
// folder on disk. `--hub-mirror URL` (else $HF_ENDPOINT, else https://huggingface.co) names
// where from. Before any weight byte, stderr gets the download size and the memory plan of
// training it (--batch/--seq/--lora/--f16 from the command line when given); during the
// download, a progress line.
import { memoryPlan, formatMemoryPlan, WEBGPU_DEFAULT_LIMITS, type PlanLimits } from '../engine/memory-plan.ts';
import { DEFAULT_LORA, parseLoraTargets, type LoraSpec } from '../engine/lora.ts';
import { fetchHubModel, type HubModelInfo, type HubProgress } from '../hub/fetch-model.ts';
import { DEFAULT_HUB_MIRROR, HF_PREFIX, hubRefText, normalizeHubMirror, parseHubRef } from '../hub/hub-id.ts';
import { hubCacheDir, hubModelDir, nodeHubFolder } from '../hub/node-folder.ts';
import { downloadSummary, fmtDownload, shapeSummary } from '../hub/summary.ts';

type Need = 'weights' | 'files';

/** The commands whose --model is a model folder they read, and what of it they read ('files':
 *  config and tokenizer only). Elsewhere --model is left as given: `export --format axolotl`
 *  and the other trainer recipes write the hub id into the trainer's config, and the judge
 *  (`select --selector judge`) downloads its own ONNX model (its mirror option is --hub). */
const MODEL_FOLDER_COMMANDS: Record<string, (argv: readonly string[]) => Need | undefined> = {
  generate: () => 'weights',
  grad: () => 'weights',
  train: () => 'weights',
  eval: () => 'weights',
  score: () => 'weights',
  experiment: () => 'weights',
  bench: () => 'files', // --model: random weights in the folder's shape
  // tokenized: the tokenizer (and, for --arm highest-loss without --step-loss, the model's own
  // per-step loss); trl is left alone: its config names the hub id itself.
  export: (argv) => (flagValue(argv, 'format') !== 'tokenized' ? undefined : flagValue(argv, 'arm') === 'highest-loss' && flagValue(argv, 'step-loss') === undefined ? 'weights' : 'files'),
  select: (argv) => (flagValue(argv, 'selector') === 'highest-loss' ? 'weights' : undefined),
};

export const HUB_MODEL_HELP = `models from the Hugging Face hub: --model hf:ORG/NAME[@REVISION] works wherever a model folder does
  (generate, grad, train, eval, score, experiment, bench, export --format tokenized, select --selector highest-loss).
  It is downloaded once into $ATLAS_HUB_CACHE (default ~/.cache/atlas/hub) and read from there:
  config.json, tokenizer.json, tokenizer_config.json, generation_config.json and the safetensors weights.
  [--hub-mirror URL] (else $HF_ENDPOINT, else ${DEFAULT_HUB_MIRROR}); an interrupted download resumes.`;

export interface HubArgsOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  stderr?: { write(text: string): unknown; isTTY?: boolean };
  /** The limits the memory plan is checked against (default: this machine's WebGPU adapter's). */
  limits?: () => Promise<PlanLimits | undefined>;
  /** Attempts after a dropped connection within one run (default 2), and the wait before each. */
  retries?: number;
  retryDelayMs?: (attempt: number) => number;
}

/** The value of `--name V` or `--name=V` in argv. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** argv without `--name V` / `--name=V`, and the value. */
function takeFlag(argv: readonly string[], name: string): { rest: string[]; value?: string } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) {
      value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
    } else if (argv[i].startsWith(`--${name}=`)) value = argv[i].slice(name.length + 3);
    else rest.push(argv[i]);
  }
  return { rest, value };
}

/** argv with `--model hf:…` replaced by the downloaded folder, and --hub-mirror removed. */
export async function resolveHubModelArgs(command: string, argv: readonly string[], o: HubArgsOptions = {}): Promise<string[]> {
  const env = o.env ?? process.env;
  const { rest, value: mirrorArg } = takeFlag(argv, 'hub-mirror');
  const need = MODEL_FOLDER_COMMANDS[command]?.(rest);
  const i = rest.findIndex((a) => a === '--model' || a.startsWith('--model='));
  const model = i < 0 ? undefined : rest[i] === '--model' ? rest[i + 1] : rest[i].slice('--model='.length);
  const isHub = model?.startsWith(HF_PREFIX) ?? false;
  if (mirrorArg !== undefined && !(need && isHub)) throw new Error(`--hub-mirror applies to --model ${HF_PREFIX}ORG/NAME${need ? '' : ` (and atlas ${command} reads no hub model${command === 'select' ? '; the judge\'s mirror option is --hub' : ''})`}`);
  if (!need || !isHub || rest.includes('--help') || rest.includes('-h')) return rest;
  const ref = parseHubRef(model!, `--model ${model}`);
  const mirror = normalizeHubMirror(mirrorArg ?? (env.HF_ENDPOINT || DEFAULT_HUB_MIRROR));
  const dir = hubModelDir(hubCacheDir(env), ref);
  const err = o.stderr ?? process.stderr;
  const info = await fetchHubModel({
    ref, mirror, folder: nodeHubFolder(dir), fetch: o.fetch, weights: need === 'weights', retries: o.retries, retryDelayMs: o.retryDelayMs,
    beforeWeights: async (m) => {
      err.write(`${downloadSummary(m)}\n  from ${mirror.replace(/\/$/, '')} into ${dir}\n  ${shapeSummary(m)}\n`);
      for (const line of await planLines(m, rest, o.limits ?? adapterLimits)) err.write(line + '\n');
    },
    onProgress: progressLine(err, hubRefText(ref)),
  });
  if (info.fromCache) err.write(`${HF_PREFIX}${hubRefText(ref)}: cached in ${dir}\n`);
  else err.write(`${HF_PREFIX}${hubRefText(ref)}: ready in ${dir}\n`);
  const out = [...rest];
  if (rest[i] === '--model') out[i + 1] = dir;
  else out[i] = `--model=${dir}`;
  return out;
}

/** The memory plan of training the model as the command line asks (batch 1 × min(512,
 *  context) unless --batch/--seq say otherwise), against this machine's adapter limits. */
async function planLines(m: HubModelInfo, argv: readonly string[], limitsOf: () => Promise<PlanLimits | undefined>): Promise<string[]> {
  const num = (name: string) => (flagValue(argv, name) === undefined ? undefined : Number(flagValue(argv, name)));
  const batch = num('batch') ?? 1;
  const seq = Math.min(num('seq') ?? Math.min(512, m.config.maxSeqLen), m.config.maxSeqLen);
  const rank = num('lora');
  const limits = await limitsOf();
  try {
    const targets = flagValue(argv, 'lora-targets');
    const lora: LoraSpec | undefined = rank ? { rank, alpha: num('lora-alpha') ?? 2 * rank, targets: targets ? parseLoraTargets(targets) : [...DEFAULT_LORA.targets] } : undefined;
    const plan = memoryPlan(m.config, { batch, seq, lora, weights: lora && argv.includes('--f16') ? 'f16' : 'f32', limits: limits ?? WEBGPU_DEFAULT_LIMITS });
    const lines = formatMemoryPlan(plan).map((l) => `  ${l}`);
    if (!limits) lines.push("  (checked against WebGPU's default limits: no WebGPU adapter answered here)");
    return lines;
  } catch (err) {
    return [`  memory plan: ${err instanceof Error ? err.message : String(err)}`];
  }
}

/** This machine's WebGPU adapter limits, without creating a device; undefined when none answers. */
async function adapterLimits(): Promise<PlanLimits | undefined> {
  try {
    const { getGpu } = await import('../engine/device.ts');
    const adapter = await (await getGpu()).requestAdapter({ powerPreference: 'high-performance' });
    return adapter ? { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } : undefined;
  } catch {
    return undefined;
  }
}

/** A progress line on stderr: rewritten in place on a terminal, else one line every few seconds and at each file's end. */
function progressLine(err: NonNullable<HubArgsOptions['stderr']>, name: string): (p: HubProgress) => void {
  let shown = 0;
  let file = '';
  let started = 0;
  let startBytes = 0;
  return (p) => {
    const now = Date.now();
    if (p.file !== file) {
      file = p.file;
      started = now;
      startBytes = p.done;
      shown = 0;
    }
    const end = p.done === p.total;
    if (!end && now - shown < (err.isTTY ? 200 : 5000)) return;
    shown = now;
    const rate = now > started ? ((p.done - startBytes) / ((now - started) / 1000)) : 0;
    const line = `${name}: ${p.file} ${fmtDownload(p.done)} / ${fmtDownload(p.total)} (${Math.floor((100 * p.done) / Math.max(1, p.total))} %)${rate > 0 ? `, ${fmtDownload(rate)}/s` : ''}; all files ${fmtDownload(p.allDone)} / ${fmtDownload(p.allTotal)}`;
    err.write(err.isTTY ? `\r${line}\x1b[K${end ? '\n' : ''}` : `${line}\n`);
  };
}
