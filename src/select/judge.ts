// The local judge: a small model run with transformers.js (in a worker in the browser,
// WebGPU when there is an adapter and wasm otherwise; onnxruntime-node or -web in Node).
// Two modes:
//   generate  the oracle's prompt; the reply is parsed and validated exactly like the oracle's
//   score     per step, P("yes") vs P("no") for "is step k critical?" from the next-token
//             logits; the top budgetCount steps by that probability are chosen
import type { StepLabel, Trajectory } from '../data/trajectory.ts';
import { budgetCount } from '../data/arms.ts';
import { CancelledError, type RunControl } from './control.ts';
import { askForSelection, type SelectOutcome } from './ask.ts';
import { PROMPT_VERSION, type ChatMessage } from './selector-prompt.ts';
import { defineSelector, type ModelSelector } from './selector.ts';

export type JudgeMode = 'generate' | 'score';
export const JUDGE_SCORE_VERSION = 'atlas-judge-score/1';

/** What the judge needs from a language model; `loadJudgeModel` builds it on transformers.js. */
export interface JudgeModel {
  readonly id: string;
  /** Longest input (tokens) the model takes. */
  readonly maxContext: number;
  /** Greedy continuation of the chat. */
  generate(messages: ChatMessage[], maxNewTokens: number): Promise<{ text: string; promptTokens: number; completionTokens: number; truncatedFrom?: number }>;
  /** log P(yes) − log P(no) for the next token after the chat's generation prompt. */
  yesNoLogOdds(messages: ChatMessage[]): Promise<{ logOdds: number; promptTokens: number; truncatedFrom?: number }>;
  /** Tokens the chat takes as model input (with the template, when the model has one). */
  countTokens(messages: ChatMessage[]): number;
  dispose?(): Promise<void>;
}

export interface JudgeOptions {
  mode: JudgeMode;
  /** Generate mode: tokens to generate per reply (default 512). */
  maxNewTokens?: number;
  /** Score mode: characters kept of each agent turn and observation (default 300). */
  maxStepChars?: number;
}

function clip(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : t.slice(0, max) + ' …';
}

/**
 * The per-step question of score mode. `window` limits the steps shown to those within
 * `window` of the asked step (and the task to its last 400 characters, where the goal
 * usually is); omitted steps are named, so the model knows the episode is longer.
 */
export function buildScoreMessages(t: Trajectory, step: number, maxStepChars = 300, window?: number): ChatMessage[] {
  const from = window === undefined ? 0 : Math.max(0, step - window);
  const to = window === undefined ? t.steps.length - 1 : Math.min(t.steps.length - 1, step + window);
  const shown: string[] = [];
  if (from > 0) shown.push(`(steps 0-${from - 1} omitted)`);
  for (let i = from; i <= to; i++) {
    const s = t.steps[i];
    shown.push(`Step ${i}\nAgent: ${clip(s.agent, maxStepChars)}\nEnvironment: ${clip(s.observation, maxStepChars) || '(no reply)'}`);
  }
  if (to < t.steps.length - 1) shown.push(`(steps ${to + 1}-${t.steps.length - 1} omitted)`);
  const task = t.instruction.trim();
  const taskShown = window === undefined || task.length <= 400 ? task : '… ' + task.slice(task.length - 400);
  return [
    {
      role: 'user',
      content:
        `Task:\n${taskShown}\n\n${shown.join('\n\n')}\n\n` +
        `Question: is step ${step} one of the few critical steps of this episode — one that creates the plan, notices an observation that changes what to do, takes a decisive action, or corrects an earlier mistake? Answer yes or no.\nAnswer:`,
    },
  ];
}

/** The score-mode question for `step`, narrowed until it fits `maxContext` tokens. */
export function fitScoreMessages(
  t: Trajectory,
  step: number,
  maxStepChars: number,
  maxContext: number,
  countTokens: (m: ChatMessage[]) => number,
): { messages: ChatMessage[]; window?: number } {
  const full = buildScoreMessages(t, step, maxStepChars);
  if (countTokens(full) <= maxContext) return { messages: full };
  // The widest window that fits (fitting only gets easier as the window shrinks): binary search.
  const fits = (w: number) => countTokens(buildScoreMessages(t, step, maxStepChars, w)) <= maxContext;
  let lo = 0;
  let hi = t.steps.length;
  if (!fits(0)) return { messages: buildScoreMessages(t, step, maxStepChars, 0), window: 0 };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return { messages: buildScoreMessages(t, step, maxStepChars, lo), window: lo };
}

export class LocalJudge implements ModelSelector {
  readonly name: string;
  readonly promptVersion: string;
  readonly cacheSalt: string;
  readonly stats = { requests: 0, retries: 0, tokens: { prompt: 0, completion: 0 } };

  constructor(readonly lm: JudgeModel, readonly options: JudgeOptions) {
    this.name = `judge:${lm.id}`;
    this.promptVersion = options.mode === 'generate' ? PROMPT_VERSION : JUDGE_SCORE_VERSION;
    // Settings that change the answer are part of the cache key (the prompt version alone is not enough).
    this.cacheSalt = options.mode === 'generate' ? `maxNewTokens=${options.maxNewTokens ?? 512}` : `maxStepChars=${options.maxStepChars ?? 300}`;
  }

  get model() {
    return this.lm.id;
  }

  /** P(yes) for every step of `t` (score mode's raw numbers, also useful to the UI). */
  async scoreSteps(t: Trajectory, control?: RunControl): Promise<{ scores: number[]; truncated: number[]; windowed: number[] }> {
    const scores: number[] = [];
    const truncated: number[] = [];
    const windowed: number[] = [];
    for (let k = 0; k < t.steps.length; k++) {
      if (control?.isCancelled) throw new CancelledError();
      await control?.whenRunning();
      const fit = fitScoreMessages(t, k, this.options.maxStepChars ?? 300, this.lm.maxContext, (m) => this.lm.countTokens(m));
      if (fit.window !== undefined) windowed.push(k);
      const r = await this.lm.yesNoLogOdds(fit.messages);
      this.stats.requests++;
      this.stats.tokens.prompt += r.promptTokens;
      this.stats.tokens.completion += 1;
      if (r.truncatedFrom !== undefined) truncated.push(k);
      scores.push(1 / (1 + Math.exp(-r.logOdds)));
    }
    return { scores, truncated, windowed };
  }

  async select(t: Trajectory, budget: number, control: RunControl): Promise<SelectOutcome> {
    if (this.options.mode === 'generate') {
      // Prompts cut to fit the context are said in the repairs (or the failure), never silently.
      const cuts: string[] = [];
      const outcome = await askForSelection(async (messages) => {
        if (control.isCancelled) throw new CancelledError();
        await control.whenRunning();
        try {
          const r = await this.lm.generate(messages, this.options.maxNewTokens ?? 512);
          this.stats.requests++;
          this.stats.tokens.prompt += r.promptTokens;
          this.stats.tokens.completion += r.completionTokens;
          if (r.truncatedFrom !== undefined) cuts.push(`${r.truncatedFrom} → ${r.promptTokens}`);
          return { ok: true, content: r.text, usage: { prompt: r.promptTokens, completion: r.completionTokens }, usageReported: true };
        } catch (err) {
          return { ok: false, error: `local model: ${err instanceof Error ? err.message : String(err)}` };
        }
      }, t, budget);
      if (!cuts.length) return outcome;
      const note = `the prompt was cut to its end to fit the model's ${this.lm.maxContext}-token context minus ${this.options.maxNewTokens ?? 512} new tokens (tokens ${cuts.join(', ')})`;
      return outcome.ok ? { ...outcome, repairs: [note, ...outcome.repairs] } : { ok: false, error: `${outcome.error}; ${note}` };
    }
    const { scores, truncated, windowed } = await this.scoreSteps(t, control);
    const k = budgetCount(t.steps.length, budget);
    const ranked = scores.map((p, step) => ({ p, step })).sort((a, b) => b.p - a.p || a.step - b.step);
    const critical: StepLabel[] = ranked.slice(0, k).map(({ p, step }) => ({ step, reason: `P(yes) = ${p.toFixed(4)}` }));
    const repairs: string[] = [];
    if (windowed.length) repairs.push(`the question for step(s) ${windowed.join(', ')} showed only nearby steps to fit the model's ${this.lm.maxContext}-token context`);
    if (truncated.length) repairs.push(`the question for step(s) ${truncated.join(', ')} still exceeded the context; kept its end`);
    return { ok: true, critical, repairs, usage: { prompt: 0, completion: 0 } };
  }
}

export const judge = defineSelector({
  kind: 'model',
  name: 'judge',
  label: 'Local judge — a small instruct model in this browser (transformers.js)',
  origin: 'the local judge',
  needsModel: 'judge',
  rebuiltFromSeed: false,
  criticalArm: true,
  select({ model }) {
    if (!model) throw new Error('the judge selector needs a loaded local model (options.model; see src/select/judge.ts)');
    return model;
  },
});

// ---------------------------------------------------------------------------------------
// transformers.js backend

export interface LoadJudgeOptions {
  /** A hub id (e.g. "onnx-community/Qwen2.5-0.5B-Instruct") or, with localModelPath, a folder name inside it. */
  model: string;
  /** Folder that holds model folders; when set and allowRemote is not true, nothing is fetched from the hub. */
  localModelPath?: string;
  allowRemote?: boolean;
  /**
   * Where hub ids are downloaded from: the Hugging Face hub (default, DEFAULT_HUB_MIRROR) or a
   * mirror that serves the same `<org>/<name>/resolve/<revision>/<file>` paths (hf-mirror.com,
   * a company mirror). transformers.js's env.remoteHost.
   */
  hubMirror?: string;
  /** Node only: folder for downloaded hub files (transformers.js's env.cacheDir; default its own). Browsers use the Cache API. */
  cacheDir?: string;
  /** "webgpu" | "wasm" in browsers, "cpu" in Node with onnxruntime-node, "wasm" in Node after useOnnxruntimeWebInNode(). Default: webgpu when a hardware adapter exists, else wasm (browser); cpu (Node). */
  device?: 'webgpu' | 'wasm' | 'cpu';
  dtype?: 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';
  onProgress?: (info: { status: string; file?: string; progress?: number }) => void;
}

export const DEFAULT_HUB_MIRROR = 'https://huggingface.co';

/** The mirror as a base URL ending in "/" (transformers.js joins it with the path template); a clear error for anything but http(s). */
export function normalizeHubMirror(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new Error(`hub mirror "${url}" is not a URL (expected e.g. ${DEFAULT_HUB_MIRROR})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`hub mirror "${url}" must be an http(s) URL`);
  if (parsed.username || parsed.password || parsed.search || parsed.hash) throw new Error(`hub mirror "${url}" must be a plain base URL (no credentials, query or fragment)`);
  return parsed.href.replace(/\/?$/, '/');
}

/** Why a download failed, in words: a refused or dropped connection says only "fetch failed". */
function describeLoadError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${(err.cause as Error & { code?: string }).code ?? err.cause.message})` : '';
  if (!/fetch failed|failed to fetch|networkerror|load failed/i.test(message)) return message + cause;
  // A browser does not say why: a refused connection and a missing CORS header look the same.
  const inNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
  return `could not connect${inNode ? '' : " (the mirror is down or unreachable, or does not allow this page's origin by CORS)"}: ${message}${cause}`;
}

/** True when WebGPU has a hardware adapter: a software one (SwiftShader) is far slower than wasm. */
async function hardwareWebGpu(gpu?: { requestAdapter(): Promise<unknown> }): Promise<boolean> {
  const adapter = (await gpu?.requestAdapter().catch(() => null)) as { isFallbackAdapter?: boolean; info?: { architecture?: string; vendor?: string; isFallbackAdapter?: boolean } } | null | undefined;
  if (!adapter) return false;
  const info = adapter.info;
  return !(adapter.isFallbackAdapter || info?.isFallbackAdapter || /swiftshader/i.test(`${info?.architecture} ${info?.vendor}`));
}

/** Loads a causal LM with transformers.js and wraps it as a JudgeModel. */
export async function loadJudgeModel(opts: LoadJudgeOptions): Promise<JudgeModel> {
  const tf = await import('@huggingface/transformers');
  const { env, AutoConfig, AutoTokenizer, AutoModelForCausalLM, Tensor } = tf;
  // env is global to the worker / process: every field a load depends on is set each time.
  const remote = opts.allowRemote ?? !opts.localModelPath;
  const local = Boolean(opts.localModelPath);
  if (opts.localModelPath) env.localModelPath = opts.localModelPath.replace(/\/?$/, '/');
  // A hub id must not be looked up on the page's own server first (a dev server answers any path with its index page).
  env.allowLocalModels = local;
  env.allowRemoteModels = remote;
  const mirror = normalizeHubMirror(opts.hubMirror ?? DEFAULT_HUB_MIRROR);
  env.remoteHost = mirror;
  env.remotePathTemplate = '{model}/resolve/{revision}/';
  if (opts.cacheDir) env.cacheDir = opts.cacheDir;

  const ortInjected = Boolean((globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')]);
  let device = opts.device;
  if (!device) {
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
    const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
    device = isNode ? (ortInjected ? 'wasm' : 'cpu') : (await hardwareWebGpu(gpu)) ? 'webgpu' : 'wasm';
  }
  // With an injected runtime (onnxruntime-web in Node) transformers.js knows no device
  // names; "auto" plus explicit execution providers selects it.
  const placement = ortInjected ? { device: 'auto' as const, session_options: { executionProviders: [device] } } : { device };
  const progress_callback = opts.onProgress ? (p: any) => opts.onProgress!({ status: p.status, file: p.file, progress: p.progress }) : undefined;
  let tokenizer: any;
  let model: any;
  try {
    // config.json first: every model has one, so a wrong id or mirror fails here with the URL it
    // tried (the tokenizer treats its files as optional and fails obscurely when none exist).
    const config = await AutoConfig.from_pretrained(opts.model, { progress_callback });
    tokenizer = await AutoTokenizer.from_pretrained(opts.model, { progress_callback });
    model = await AutoModelForCausalLM.from_pretrained(opts.model, { config, dtype: opts.dtype ?? 'fp32', progress_callback, ...(placement as object) });
  } catch (err) {
    const where = local && !remote ? `folder "${opts.model}" in ${opts.localModelPath}` : `hub id "${opts.model}" through the hub mirror ${mirror}`;
    throw new Error(`cannot load the judge model from ${where}: ${describeLoadError(err)}`);
  }
  const maxContext: number = model.config?.max_position_embeddings ?? tokenizer.model_max_length ?? 2048;
  const hasTemplate = Boolean(tokenizer.chat_template);
  const bos: number | undefined = tokenizer.bos_token_id ?? undefined;

  const render = (messages: ChatMessage[]): string =>
    hasTemplate
      ? tokenizer.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false })
      : messages.map((m) => m.content).join('\n\n'); // no template: plain text, the model continues it

  /** Token ids of the chat, cut to `limit` by keeping the end (after BOS, when the model uses one). */
  const encode = (messages: ChatMessage[], limit: number) => {
    const ids: number[] = Array.from(tokenizer.encode(render(messages), { add_special_tokens: !hasTemplate }) as number[]);
    if (ids.length <= limit) return { ids };
    const keepBos = bos !== undefined && ids[0] === bos;
    const tail = ids.slice(ids.length - (limit - (keepBos ? 1 : 0)));
    return { ids: keepBos ? [bos!, ...tail] : tail, truncatedFrom: ids.length };
  };
  const tensor = (ids: number[]) => new Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]);

  const firstTokens = (words: string[]) =>
    new Set(words.map((w) => (tokenizer.encode(w, { add_special_tokens: false }) as number[])[0]).filter((x) => x !== undefined));
  const yes = firstTokens([' yes', 'yes', ' Yes', 'Yes']);
  const no = firstTokens([' no', 'no', ' No', 'No']);
  for (const id of [...yes]) if (no.has(id)) (yes.delete(id), no.delete(id));
  if (!yes.size || !no.size) throw new Error(`the judge model's tokenizer cannot tell "yes" from "no" by their first token`);

  const logSumExp = (logits: Float32Array, base: number, ids: Set<number>) => {
    const xs = [...ids].map((id) => logits[base + id]);
    const m = Math.max(...xs);
    return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
  };

  return {
    id: opts.model,
    maxContext,
    async generate(messages, maxNewTokens) {
      const budget = Math.max(1, maxContext - maxNewTokens);
      const { ids, truncatedFrom } = encode(messages, budget);
      const input_ids = tensor(ids);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const out = await model.generate({ input_ids, attention_mask, max_new_tokens: Math.min(maxNewTokens, maxContext - ids.length), do_sample: false });
      const all: bigint[] = Array.from((out as { data: BigInt64Array }).data);
      const fresh = all.slice(ids.length).map(Number);
      return { text: tokenizer.decode(fresh, { skip_special_tokens: true }), promptTokens: ids.length, completionTokens: fresh.length, truncatedFrom };
    },
    async yesNoLogOdds(messages) {
      const { ids, truncatedFrom } = encode(messages, maxContext);
      const input_ids = tensor(ids);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const { logits } = await model({ input_ids, attention_mask });
      const [, T, V] = logits.dims as number[];
      const data = logits.data as Float32Array;
      const base = (T - 1) * V;
      return { logOdds: logSumExp(data, base, yes) - logSumExp(data, base, no), promptTokens: ids.length, truncatedFrom };
    },
    countTokens(messages) {
      return (tokenizer.encode(render(messages), { add_special_tokens: !hasTemplate }) as number[]).length;
    },
    async dispose() {
      await model.dispose?.();
    },
  };
}

/** Loads the model and wraps it as a selector for runSelection({ selector: 'judge', model }). */
export async function loadJudge(opts: LoadJudgeOptions & JudgeOptions): Promise<LocalJudge> {
  return new LocalJudge(await loadJudgeModel(opts), opts);
}
