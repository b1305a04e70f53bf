// The canonical trajectory model shared by importers, exporters, environments, selectors,
// the trainer and the UI. Serialized as one JSON object per line (JSONL) with `version`.

export const TRAJECTORY_VERSION = 1;

/** The four kinds of critical step named by ATLaS. */
export type CriticalCategory = 'plan' | 'observation' | 'action' | 'self-correction';
export const CRITICAL_CATEGORIES: readonly CriticalCategory[] = ['plan', 'observation', 'action', 'self-correction'];

/** Ground-truth role of a step, known only for trajectories from the built-in environments. */
export type StepRole = CriticalCategory | 'routine';

export interface Step {
  /** The agent turn exactly as written (thought and action together). */
  agent: string;
  /** The reasoning part of the agent turn, when the text separates it. */
  thought?: string;
  /** The action part of the agent turn, when the text separates it. */
  action?: string;
  /** What the environment answered to this turn; '' when nothing followed. */
  observation: string;
}

export interface StepLabel {
  /** 0-based index into `Trajectory.steps`. */
  step: number;
  category?: CriticalCategory;
  reason?: string;
}

/** One selector's verdict on a trajectory: which steps are critical. */
export interface Selection {
  /** e.g. "oracle:gpt-4o", "judge:…", "heuristic", "random", "import:loss", "manual". */
  selector: string;
  /** ISO time the selection was made. */
  createdAt: string;
  status: 'labelled' | 'failed';
  /** Why the selector failed (status 'failed'). */
  failure?: string;
  /** Critical steps, most important first when the selector ranks them. */
  critical: StepLabel[];
  /** Fraction of steps allowed (0.3 by default); absent when no budget applied (e.g. imported flags). */
  budget?: number;
  /** The selector's high-level plan / sub-goals, when it gave one. */
  plan?: string;
  /** Every change made to the selector's reply (dropped indices, budget cuts, …). */
  repairs?: string[];
  promptVersion?: string;
  model?: string;
}

export interface Trajectory {
  version: typeof TRAJECTORY_VERSION;
  id: string;
  /** Where it came from: a file and record (line or JSON path), or a built-in environment. */
  source: { format: string; file?: string; record?: string };
  /** Environment name (e.g. "household", "alfworld", "webshop"). */
  env?: string;
  /** Task type within the environment (e.g. "put", "clean"). */
  taskType?: string;
  /** System text, when the format has one. */
  system?: string;
  /** The task prompt: everything the agent is told before its first turn. */
  instruction: string;
  /** Turns before the instruction that are not steps, kept so exports reproduce the record:
   *  e.g. AgentGym's format prompt (user) and the agent's "Ok." acknowledgement (agent).
   *  Rendered as context (never supervised). Optional; absent for most trajectories. */
  preamble?: { role: 'user' | 'agent'; text: string }[];
  steps: Step[];
  /** Selections by different selectors; `activeSelection` names the one the critical arm uses. */
  selections: Selection[];
  activeSelection?: string;
  /** Ground-truth role per step (built-in environments only); same length as `steps`. */
  groundTruth?: StepRole[];
  outcome?: { success: boolean; reward?: number };
  provenance?: {
    importedAt?: string;
    generator?: string;
    seed?: number;
    split?: 'held-in' | 'held-out';
    note?: string;
    /** What an importer changed on the way in (merged turns, skipped acknowledgements, …). */
    notes?: string[];
  };
  /** Fields of the original record the model has no place for, kept so nothing is lost. */
  extra?: Record<string, unknown>;
}

/** The selection the critical arm trains on: the named active one, else the latest labelled one. */
export function activeSelection(t: Trajectory): Selection | undefined {
  const labelled = t.selections.filter((s) => s.status === 'labelled');
  if (t.activeSelection) {
    const named = labelled.filter((s) => s.selector === t.activeSelection);
    if (named.length) return named[named.length - 1];
  }
  return labelled[labelled.length - 1];
}

/** Sorted step indices of a selection. */
export function selectedSteps(sel: Selection | undefined): number[] {
  if (!sel) return [];
  return [...new Set(sel.critical.map((c) => c.step))].sort((a, b) => a - b);
}
