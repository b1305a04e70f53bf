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
  /** Trajectories an interrupted earlier run had finished and this one took as they were (resumed runs only; counted in labelled / failed / repaired, not in requests or tokens). */
  resumed?: number;
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

/** Where an interrupted run left off (the CLI's resume: src/cli/select-resume.ts). */
export interface ResumeState {
  /** Input trajectories 0..index-1 were written by the earlier run; the input given starts at this index. */
  index: number;
  /** Their counts, as the earlier run's output records them. */
  labelled: number;
  failed: { id: string; reason: string }[];
  repaired: number;
  /** Selections the earlier run finished at input index ≥ `index` but had not written yet (its journal). */
  finished: Map<number, { id: string; selection: Selection }>;
}

export interface InOrderOptions {
  /** Number of trajectories in the whole input, when known (progress; the summary's total). */
  total?: number;
  /**
   * At most this many trajectories between the oldest one not yet handed out and the newest one
   * read: in flight plus finished and waiting for an earlier one (default max(1024, 64 × concurrency)).
   * Memory is bounded by it, whatever the size of the input.
   */
  window?: number;
  resume?: ResumeState;
  /** Called as soon as trajectory `index` is finished (before it can be handed out in order): a journal. Not called for those taken from `resume`. */
  onFinished?: (index: number, t: Trajectory, selection: Selection) => void;
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

/** The name the run's selections will carry (Selection.selector): "oracle:gpt-4o", "judge:<model>", "heuristic". */
export function selectionName(options: RunOptions): string {
  const { def } = checkOptions(options);
  return modelSelectorFor(def, options)?.name ?? options.selector;
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

/** Labels a list of trajectories (all in memory); see selectInOrder for a stream. */
export async function runSelection(input: readonly Trajectory[], options: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const trajectories: Trajectory[] = [];
  // The whole list is in memory already: no window, so a slow trajectory never holds the others up.
  const run = selectInOrder(input, options, { ...hooks, total: input.length, window: Infinity });
  for (;;) {
    const next = await run.next();
    if (next.done) return { trajectories, summary: next.value };
    trajectories.push(next.value);
  }
}

/**
 * The default window of selectInOrder: a slow trajectory (timeouts, retries, backoff) holds up
 * this many before the lanes wait. 64 per lane: at 32 lanes (2,048 held, about 10 MB) a run
 * against a fast endpoint went as fast as with no window, where 16 per lane lost a fifth of
 * its speed to waits (docs/selection.md, "At dataset scale").
 */
export function defaultWindow(concurrency: number): number {
  return Math.max(1024, 64 * concurrency);
}

/**
 * Labels a stream of trajectories and hands them out in input order, each with one more
 * selection, as soon as it and every earlier one are finished; returns the summary. At most
 * `window` trajectories are held at once (in flight, or finished and waiting for an earlier
 * one), so memory does not grow with the input. With `resume`, the input starts at
 * `resume.index` and the selections in `resume.finished` are taken as they are (no request).
 */
export async function* selectInOrder(
  input: Iterable<Trajectory> | AsyncIterable<Trajectory>,
  options: RunOptions,
  hooks: RunHooks & InOrderOptions = {},
): AsyncGenerator<Trajectory, RunSummary, undefined> {
  const { def, budget } = checkOptions(options);
  const run = new SelectionRun(options, hooks, def, budget);
  return yield* run.stream(input);
}

function iteratorOf<T>(input: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in input ? (input as AsyncIterable<T>)[Symbol.asyncIterator]() : (input as Iterable<T>)[Symbol.iterator]();
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
  private readonly resume?: ResumeState;
  private done: number;

  constructor(
    private readonly options: RunOptions,
    private readonly hooks: RunHooks & InOrderOptions,
    private readonly def: SelectorDef,
    private readonly budget: number,
  ) {
    this.control = hooks.control ?? new RunControl();
    this.model = modelSelectorFor(def, options);
    this.now = options.now ?? (() => new Date());
    this.selectorName = this.model?.name ?? options.selector;
    this.resume = hooks.resume;
    const r = this.resume;
    this.summary = {
      selector: this.selectorName,
      total: hooks.total ?? 0,
      labelled: r?.labelled ?? 0,
      failed: r ? [...r.failed] : [],
      requests: 0,
      retries: 0,
      cacheHits: 0,
      tokens: { prompt: 0, completion: 0 },
      cost: options.price ? 0 : null,
      repaired: r?.repaired ?? 0,
      cancelled: false,
      elapsedMs: 0,
      ...(r ? { resumed: r.index } : {}),
    };
    this.done = r?.index ?? 0;
  }

  /**
   * Labels every trajectory of `input`, `concurrency` at a time (one for a rule selector), and
   * yields them in input order; then closes the cache and returns the summary.
   */
  async *stream(input: Iterable<Trajectory> | AsyncIterable<Trajectory>): AsyncGenerator<Trajectory, RunSummary, undefined> {
    const lanes = Math.max(1, Math.floor(this.model ? (this.options.concurrency ?? 4) : 1));
    const window = Math.max(lanes, this.hooks.window ?? defaultWindow(lanes));
    const source = iteratorOf(input);
    const ready = new Map<number, Trajectory>();
    let next = this.resume?.index ?? 0; // input index of the next trajectory read
    let out = next; // input index of the next trajectory handed out
    let active = 0;
    let exhausted = false;
    let failure: { error: unknown } | undefined;
    // Set by every finished trajectory; the loop sleeps only when nothing finished since it last looked.
    let woken = false;
    let wake: (() => void) | undefined;
    const signal = () => {
      woken = true;
      wake?.();
    };
    for (;;) {
      woken = false;
      while (!exhausted && !failure && active < lanes && next - out < window) {
        const r = await source.next();
        if (r.done) {
          exhausted = true;
          break;
        }
        const i = next++;
        const t = r.value;
        active++;
        this.labelOne(i, t)
          .then((selection) => void ready.set(i, this.finish(i, t, selection)))
          .catch((error: unknown) => void (failure ??= { error }))
          .finally(() => {
            active--;
            signal();
          });
      }
      if (failure) {
        // A hook failed (e.g. the journal could not be written): stop starting, let the lanes drain, report it.
        this.control.cancel();
        while (active > 0) await new Promise<void>((r) => (wake = r));
        throw failure.error;
      }
      let handedOut = false;
      for (let t = ready.get(out); t !== undefined; t = ready.get(out)) {
        ready.delete(out++);
        handedOut = true;
        yield t;
      }
      if (exhausted && active === 0 && ready.size === 0) break;
      if (handedOut) continue; // the window moved: more may start
      if (!woken) await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    await this.options.cache?.close?.();
    this.summary.total = Math.max(this.summary.total, out);
    this.refreshStats();
    return this.summary;
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

  /** Trajectory i with its new selection appended; counts it, journals it, and reports progress. */
  private finish(i: number, t: Trajectory, selection: Selection): Trajectory {
    const { summary } = this;
    const resumed = this.resume?.finished.get(i)?.selection === selection;
    if (resumed) {
      this.resume!.finished.delete(i);
      summary.resumed!++;
    } else this.hooks.onFinished?.(i, t, selection);
    if (selection.status === 'labelled') summary.labelled++;
    else summary.failed.push({ id: t.id, reason: selection.failure ?? 'unknown' });
    if (selection.repairs?.length) summary.repaired++;
    this.refreshStats();
    this.done++;
    const total = Math.max(this.hooks.total ?? 0, this.done);
    this.hooks.onProgress?.({ done: this.done, total, id: t.id, status: selection.status, summary: { ...summary, total, failed: [...summary.failed] } });
    return { ...t, selections: [...t.selections, selection], ...activeAfter(t, selection, this.def) };
  }

  private base(): Pick<Selection, 'selector' | 'createdAt'> {
    return { selector: this.selectorName, createdAt: this.now().toISOString() };
  }

  private failed(reason: string): Selection {
    const { model } = this;
    return { ...this.base(), status: 'failed', failure: reason, critical: [], budget: this.budget, ...(model ? { promptVersion: model.promptVersion, model: model.model } : {}) };
  }

  /** Trajectory i's selection: the earlier run's, by rule, from the cache, or the model's answer; failed with a reason. */
  private async labelOne(i: number, t: Trajectory): Promise<Selection> {
    const earlier = this.resume?.finished.get(i);
    if (earlier && earlier.id === t.id) return earlier.selection;
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

/**
 * What an oracle run would send, without sending anything. `keepPrompts: 'first'` keeps only
 * the first prompt that would be sent (else the first prompt), so a stream of any size is
 * estimated in bounded memory; the default keeps every prompt.
 */
export async function dryRun(
  input: Iterable<Trajectory> | AsyncIterable<Trajectory>,
  options: RunOptions,
  opts: { keepPrompts?: 'all' | 'first' } = {},
): Promise<DryRunReport> {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const model = options.model?.model ?? options.oracle?.model ?? '';
  const promptVersion = options.model?.promptVersion ?? PROMPT_VERSION;
  const keepAll = (opts.keepPrompts ?? 'all') === 'all';
  const report: DryRunReport = {
    selector: options.model?.name ?? (options.oracle ? `oracle:${options.oracle.model}` : options.selector),
    promptVersion,
    trajectories: 0,
    cached: 0,
    toSend: 0,
    promptTokens: 0,
    completionTokens: 0,
    cost: null,
    prompts: [],
  };
  for await (const t of input) {
    report.trajectories++;
    const messages = buildSelectorMessages(t, budget);
    const promptTokens = estimateMessageTokens(messages);
    const cached = options.cache ? Boolean(await options.cache.get(await modelCacheKey(t, options.model ?? { promptVersion, model }, budget))) : false;
    const prompt = { id: t.id, messages, promptTokens, cached };
    if (keepAll || report.prompts.length === 0) report.prompts.push(prompt);
    else if (report.prompts[0].cached && !cached) report.prompts[0] = prompt;
    if (cached) report.cached++;
    else if (t.steps.length > 0) {
      report.toSend++;
      report.promptTokens += promptTokens;
      report.completionTokens += 40 + 30 * budgetCount(t.steps.length, budget);
    }
  }
  await options.cache?.close?.();
  report.cost = estimateCost({ prompt: report.promptTokens, completion: report.completionTokens }, options.price) ?? null;
  return report;
}
