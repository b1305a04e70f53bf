// What a selector is. Every selector is one entry of SELECTORS (src/select/registry.ts), defined
// in its own file: a rule selector (heuristic, ground truth, the baseline arms) picks the steps
// of one trajectory itself; a model selector (the remote oracle, the local judge) names the
// model that answers, and runSelection (src/select/run.ts) asks it, with a cache, a concurrency
// limit and token counts. docs/selection.md, "How to add a selector".
import type { StepLabel, Trajectory } from '../data/trajectory.ts';
import type { RunControl } from './control.ts';
import type { SelectOutcome } from './ask.ts';
import type { OracleConfig } from './oracle.ts';

/** A model-backed selector (the remote oracle, the local judge). */
export interface ModelSelector {
  /** Selection.selector, e.g. "oracle:gpt-4o". */
  readonly name: string;
  readonly model: string;
  readonly promptVersion: string;
  readonly stats: { requests: number; retries: number; tokens: { prompt: number; completion: number } };
  /** Settings besides prompt version, model and budget that change the answer (joined into the cache key). */
  readonly cacheSalt?: string;
  select(t: Trajectory, budget: number, control: RunControl): Promise<SelectOutcome>;
}

/** What a rule selector gets besides the trajectory. */
export interface SelectContext {
  /** Fraction of steps a selection may mark (budgetCount() in src/data/arms.ts). */
  budget: number;
  /** Seed of the random draws (the random and rejected arms). */
  seed: number;
  /** This trajectory's per-step loss under the base model (selectors that need the base model). */
  stepLoss?: readonly number[];
}

/** A rule selector's choice for one trajectory. */
export interface Picked {
  critical: StepLabel[];
  repairs?: string[];
  /** The budget the selection records; undefined when it has none (the full arm). */
  budget: number | undefined;
}

/** Where a model selector's model comes from (src/select/run.ts RunOptions). */
export interface ModelSources {
  /** Remote oracle settings (endpoint, model, key). */
  oracle?: OracleConfig;
  /** An already loaded model (the local judge). */
  model?: ModelSelector;
}

interface SelectorInfo<N extends string> {
  /** `atlas select --selector`, the link's `selector=`, and the Selection.selector it writes
   *  (a model selector's selections are named "<name>:<model>"). */
  readonly name: N;
  /** The Select step's text for it. */
  readonly label: string;
  /** Where a selection of it came from, in a sentence ("the heuristic"; a model's name follows). */
  readonly origin: string;
  /** A model it needs besides the trajectories: a loaded local judge, or the base model's
   *  per-step loss (which only the engine computes: the CLI, the runner's arm, not the page). */
  readonly needsModel?: 'judge' | 'base-model';
  /** It sends the trajectories over the network. */
  readonly needsNetwork?: boolean;
  /** The runner recomputes it on built-in data regenerated from the seed (applySelector in
   *  src/experiment/data.ts); otherwise its selection exists only on stored trajectories. */
  readonly rebuiltFromSeed: boolean;
  /** Its selection is a choice of critical steps the critical arm trains on by default; false
   *  for the baseline arms' selections (shown to inspect, trained on only when chosen by hand). */
  readonly criticalArm: boolean;
}

export interface RuleSelectorDef<N extends string = string> extends SelectorInfo<N> {
  readonly kind: 'rule';
  /** The steps of one trajectory; throws the reason it cannot label it. */
  select(t: Trajectory, ctx: SelectContext): Picked;
}

export interface ModelSelectorDef<N extends string = string> extends SelectorInfo<N> {
  readonly kind: 'model';
  /** The model that answers; throws what is missing. */
  select(sources: ModelSources): ModelSelector;
}

export type SelectorDef<N extends string = string> = RuleSelectorDef<N> | ModelSelectorDef<N>;

/** Keeps a definition's name as a literal type, so the registry's names form a union. */
export function defineSelector<const N extends string>(def: SelectorDef<N>): SelectorDef<N> {
  return def;
}

/** Step labels with one reason each. */
export function labelled(steps: readonly number[], reason: string): StepLabel[] {
  return steps.map((step) => ({ step, reason }));
}
