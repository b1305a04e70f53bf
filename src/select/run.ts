// The selection runner: applies one selector (src/select/registry.ts) to a list of
// trajectories with a concurrency limit, a cache, progress events, pause/resume/cancel, and a
// summary that accounts for every trajectory (labelled, or failed with a reason). The same code
// runs in the CLI (Node) and in workers/select.worker.ts (browser).
import type { Selection, Trajectory } from '../data/trajectory.ts';
import { budgetCount, DEFAULT_BUDGET } from '../data/arms.ts';
import { activeSelection } from '../data/trajectory.ts';
import { CancelledError, RunControl } from './control.ts';
import { selectionCacheKey, type CacheStore } from './cache.ts';
import { estimateCost, type OracleConfig } from './oracle.ts';
import { buildSelectorMessages, estimateMessageTokens, PROMPT_VERSION, type ChatMessage } from './selector-prompt.ts';
import { getSelector, isSelectorName, SELECTOR_NAMES, type SelectorName } from './registry.ts';
import type { ModelSelector, RuleSelectorDef, SelectorDef } from './selector.ts';

export interface Price {
  /** Price per 1M prompt tokens (any currency unit). */
  promptPerM: number;
  completionPerM: number;
}

export interface RunOptions {
  selector: SelectorName;
  /** Fraction of steps (default 0.3); the count is budgetCount() from src/data/arms.ts. */
  budget?: number;
  /** Seed of the random and rejected arms. */
  seed?: number;
  /** Trajectories in flight at once (default 4; model selectors only). */
  concurrency?: number;
  /** Remote oracle (selector "oracle"). */
  oracle?: OracleConfig;
  /** Any model-backed selector; required for "judge" (see src/select/judge.ts). Overrides `oracle`. */
  model?: ModelSelector;
  price?: Price;
  cache?: CacheStore;
  /** Per-step base-model loss for "highest-loss" (the engine computes it). */
  stepLoss?: (t: Trajectory) => Promise<readonly number[]> | readonly number[];
  /** Clock, injectable for tests. */
  now?: () => Date;
}

export interface RunSummary {
  selector: string;
  total: number;
  labelled: number;
  failed: { id: string; reason: string }[];
  requests: number;
  retries: number;
  cacheHits: number;
  tokens: { prompt: number; completion: number };
  /** Estimated cost from `price`, null when no price was given. */
  cost: number | null;
  /** Trajectories whose selection needed at least one repair. */
  repaired: number;
  cancelled: boolean;
  elapsedMs: number;
}

export interface RunProgress {
  done: number;
  total: number;
  /** The trajectory that just finished. */
  id: string;
  status: 'labelled' | 'failed';
  summary: RunSummary;
}

export interface RunHooks {
  onProgress?: (p: RunProgress) => void;
  control?: RunControl;
}

export interface RunResult {
  /** The input trajectories, in order, each with one more selection appended. */
  trajectories: Trajectory[];
  summary: RunSummary;
}

/** The model that answers: a given one (options.model), else the model selector's own; none for a rule selector. */
function modelSelectorFor(def: SelectorDef, options: RunOptions): ModelSelector | undefined {
  if (options.model) return options.model;
  return def.kind === 'model' ? def.select(options) : undefined;
}

/** A rule selector's choice for one trajectory; throws with the reason it cannot be labelled. */
async function selectByRule(def: RuleSelectorDef, t: Trajectory, options: RunOptions, budget: number): Promise<Pick<Selection, 'critical' | 'repairs' | 'budget'>> {
  const stepLoss = def.needsModel === 'base-model' && options.stepLoss ? await options.stepLoss(t) : undefined;
  return def.select(t, { budget, seed: options.seed ?? 0, stepLoss });
}

/** The cache key of a model selector's answer: content, prompt version (+ salt), model, budget. */
function modelCacheKey(t: Trajectory, m: Pick<ModelSelector, 'promptVersion' | 'model' | 'cacheSalt'>, budget: number): Promise<string> {
  return selectionCacheKey(t, m.cacheSalt ? `${m.promptVersion}|${m.cacheSalt}` : m.promptVersion, m.model, budget);
}

/**
 * Which selection the critical arm uses afterwards (Trajectory.activeSelection). A new labelled
 * selection of a critical-arm selector (registry: criticalArm) becomes active. A baseline arm's
 * selection (random, rejected, highest-loss, full) must not: when nothing is pinned yet, the
 * selection that was active before is pinned, because activeSelection() would otherwise fall
 * back to the latest labelled one — the baseline.
 */
function activeAfter(t: Trajectory, selection: Selection, def: SelectorDef): Pick<Trajectory, 'activeSelection'> {
  if (selection.status !== 'labelled') return {};
  if (def.criticalArm) return { activeSelection: selection.selector };
  if (t.activeSelection) return {};
  const before = activeSelection(t);
  return before ? { activeSelection: before.selector } : {};
}

/** Refuses options no selection can run with; the selector's definition and the budget. */
function checkOptions(options: RunOptions): { def: SelectorDef; budget: number } {
  const budget = options.budget ?? DEFAULT_BUDGET;
  if (!(budget > 0 && budget <= 1)) throw new Error(`budget must be in (0, 1] (got ${budget})`);
  if (!isSelectorName(options.selector)) throw new Error(`unknown selector "${options.selector}" (one of ${SELECTOR_NAMES.join(', ')})`);
  const def = getSelector(options.selector);
  if (def.needsModel === 'base-model' && !options.stepLoss) {
    throw new Error(`${def.name} needs the base model per-step loss (options.stepLoss; CLI: --step-loss or --model)`);
  }
  return { def, budget };
}

export async function runSelection(input: readonly Trajectory[], options: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const { def, budget } = checkOptions(options);
  const run = new SelectionRun(input, options, hooks, def, budget);
  await run.labelAll();
  return run.result();
}

/** One selection run: labels every trajectory once, in `concurrency` lanes, and keeps the summary. */
class SelectionRun {
  private readonly started = Date.now();
  private readonly control: RunControl;
  /** The model that answers (none for a rule selector). */
  private readonly model?: ModelSelector;
  private readonly now: () => Date;
  private readonly selectorName: string;
  private readonly summary: RunSummary;
  private readonly results: Trajectory[];
  private done = 0;

  constructor(
    private readonly input: readonly Trajectory[],
    private readonly options: RunOptions,
    private readonly hooks: RunHooks,
    private readonly def: SelectorDef,
    private readonly budget: number,
  ) {
    this.control = hooks.control ?? new RunControl();
    this.model = modelSelectorFor(def, options);
    this.now = options.now ?? (() => new Date());
    this.selectorName = this.model?.name ?? options.selector;
    this.summary = {
      selector: this.selectorName,
      total: input.length,
      labelled: 0,
      failed: [],
      requests: 0,
      retries: 0,
      cacheHits: 0,
      tokens: { prompt: 0, completion: 0 },
      cost: options.price ? 0 : null,
      repaired: 0,
      cancelled: false,
      elapsedMs: 0,
    };
    this.results = new Array(input.length);
  }

  /** Labels every trajectory, `concurrency` at a time (one for a rule selector), then closes the cache. */
  async labelAll(): Promise<void> {
    const concurrency = Math.max(1, Math.floor(this.model ? (this.options.concurrency ?? 4) : 1));
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < this.input.length; i = next++) this.finish(i, await this.labelOne(i));
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, this.input.length)) }, lane));
    await this.options.cache?.close?.();
    this.refreshStats();
  }

  result(): RunResult {
    return { trajectories: this.results, summary: this.summary };
  }

  /** Copies the model's request/token counters and the elapsed time into the summary. */
  private refreshStats(): void {
    const { summary, model } = this;
    if (model) {
      summary.requests = model.stats.requests;
      summary.retries = model.stats.retries;
      summary.tokens = { ...model.stats.tokens };
      if (this.options.price) summary.cost = estimateCost(summary.tokens, this.options.price) ?? null;
    }
    summary.cancelled = this.control.isCancelled;
    summary.elapsedMs = Date.now() - this.started;
  }

  /** Appends trajectory i's new selection, counts it, and reports progress. */
  private finish(i: number, selection: Selection): void {
    const t = this.input[i];
    const { summary } = this;
    this.results[i] = { ...t, selections: [...t.selections, selection], ...activeAfter(t, selection, this.def) };
    if (selection.status === 'labelled') summary.labelled++;
    else summary.failed.push({ id: t.id, reason: selection.failure ?? 'unknown' });
    if (selection.repairs?.length) summary.repaired++;
    this.refreshStats();
    this.done++;
    this.hooks.onProgress?.({ done: this.done, total: this.input.length, id: t.id, status: selection.status, summary: { ...summary, failed: [...summary.failed] } });
  }

  private base(): Pick<Selection, 'selector' | 'createdAt'> {
    return { selector: this.selectorName, createdAt: this.now().toISOString() };
  }

  private failed(reason: string): Selection {
    const { model } = this;
    return { ...this.base(), status: 'failed', failure: reason, critical: [], budget: this.budget, ...(model ? { promptVersion: model.promptVersion, model: model.model } : {}) };
  }

  /** Trajectory i's selection: by rule, from the cache, or the model's answer; failed with a reason. */
  private async labelOne(i: number): Promise<Selection> {
    const t = this.input[i];
    if (this.control.isCancelled) return this.failed('cancelled');
    if (t.steps.length === 0) return this.failed('trajectory has no steps');
    try {
      await this.control.whenRunning();
      // No model: a rule selector (a model selector's select() returned one or threw).
      return this.model ? await this.labelByModel(t, this.model) : await this.labelByRule(t);
    } catch (err) {
      if (err instanceof CancelledError || this.control.isCancelled) return this.failed('cancelled');
      return this.failed(err instanceof Error ? err.message : String(err));
    }
  }

  private async labelByRule(t: Trajectory): Promise<Selection> {
    const picked = await selectByRule(this.def as RuleSelectorDef, t, this.options, this.budget);
    return { ...this.base(), status: 'labelled', critical: picked.critical, ...(picked.budget !== undefined ? { budget: picked.budget } : {}), ...(picked.repairs?.length ? { repairs: picked.repairs } : {}) };
  }

  /** The cached answer for this content, model and budget, or the model's (then cached). */
  private async labelByModel(t: Trajectory, model: ModelSelector): Promise<Selection> {
    const { cache } = this.options;
    const key = cache ? await modelCacheKey(t, model, this.budget) : '';
    const cached = cache ? await cache.get(key) : undefined;
    const common = { budget: this.budget, promptVersion: model.promptVersion, model: model.model };
    if (cached) {
      this.summary.cacheHits++;
      return { ...this.base(), status: 'labelled', critical: cached.critical, plan: cached.plan, repairs: cached.repairs, ...common };
    }
    const outcome = await model.select(t, this.budget, this.control);
    if (!outcome.ok) return this.failed(outcome.error);
    try {
      await cache?.put({ key, promptVersion: model.promptVersion, model: model.model, budget: this.budget, plan: outcome.plan, critical: outcome.critical, repairs: outcome.repairs, usage: outcome.usage, createdAt: this.now().toISOString() });
    } catch (err) {
      // The answer is paid for: keep it, and say it will be asked for again next time.
      outcome.repairs.push(`not cached: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { ...this.base(), status: 'labelled', critical: outcome.critical, ...(outcome.plan !== undefined ? { plan: outcome.plan } : {}), repairs: outcome.repairs, ...common };
  }
}

export interface DryRunReport {
  selector: string;
  promptVersion: string;
  trajectories: number;
  /** Trajectories the cache already answers: they would not be sent. */
  cached: number;
  toSend: number;
  /** Estimated tokens of the requests that would be sent (about 4 characters per token). */
  promptTokens: number;
  /** Rough guess at the replies: 40 tokens of plan plus 30 per allowed critical step. */
  completionTokens: number;
  cost: number | null;
  prompts: { id: string; messages: ChatMessage[]; promptTokens: number; cached: boolean }[];
}

/** What an oracle run would send, without sending anything. */
export async function dryRun(input: readonly Trajectory[], options: RunOptions): Promise<DryRunReport> {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const model = options.model?.model ?? options.oracle?.model ?? '';
  const promptVersion = options.model?.promptVersion ?? PROMPT_VERSION;
  const report: DryRunReport = {
    selector: options.model?.name ?? (options.oracle ? `oracle:${options.oracle.model}` : options.selector),
    promptVersion,
    trajectories: input.length,
    cached: 0,
    toSend: 0,
    promptTokens: 0,
    completionTokens: 0,
    cost: null,
    prompts: [],
  };
  for (const t of input) {
    const messages = buildSelectorMessages(t, budget);
    const promptTokens = estimateMessageTokens(messages);
    const cached = options.cache ? Boolean(await options.cache.get(await modelCacheKey(t, options.model ?? { promptVersion, model }, budget))) : false;
    report.prompts.push({ id: t.id, messages, promptTokens, cached });
    if (cached) report.cached++;
    else if (t.steps.length > 0) {
      report.toSend++;
      report.promptTokens += promptTokens;
      report.completionTokens += 40 + 30 * budgetCount(t.steps.length, budget);
    }
  }
  report.cost = estimateCost({ prompt: report.promptTokens, completion: report.completionTokens }, options.price) ?? null;
  return report;
}
