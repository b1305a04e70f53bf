// A selector that needs no model: it reads the four categories' visible signals.
//   plan            the first agent turn whose thought lays out steps ("first ... then", "I need to", "plan")
//   self-correction the turn right after a failed or surprising observation ("Nothing happens.", errors)
//   observation     the turn right after the observation that first shows the task's target (the
//                   turn that notices it; the observation itself belongs to the turn before, whose
//                   action did not name the target), as the built-in environments label it
//   action          the final decisive action (the last turn that acts rather than only thinks),
//                   then earlier turns that apply one of the task's own verbs to its target
// Candidates are ranked plan, first self-correction, observation, final action, other
// self-corrections, other decisive actions, and cut to the budget.
import type { StepLabel, Trajectory, CriticalCategory, Step } from '../data/trajectory.ts';
import { budgetCount } from '../data/arms.ts';
import { defineSelector } from './selector.ts';

const PLAN_MARKERS = /\b(first|then|plan|need to|have to|should|sub-?goals?|steps?|after that|finally|to solve|to do this|to finish)\b/i;
const FAILURE_MARKERS =
  /\b(nothing happens|error|invalid|can't|cannot|unable|not possible|fail(ed|s)?|doesn't|does not|no such|unknown|not found|isn't|is not|won't|wrong|not allowed|not available)\b/i;
const THINK_ONLY = /^\s*(>\s*)?think\s*:/i;

// Words of an instruction that never name its target.
const STOPWORDS = new Set(
  ('a an the some any your you task is are to in on at into onto from of for with and or then it its this that these those ' +
    'put place find take get go bring move give use look examine clean heat cool slice open close turn toggle pick buy ' +
    'search make craft two one both each all room around here there please can could would will need want them they ' +
    'what which where when who how first next also after before using under over near by inside out up down')
    .split(' '),
);

function actionText(s: Step): string {
  if (s.action !== undefined) return s.action;
  const lines = s.agent.trim().split('\n');
  const marked = lines.find((l) => /^\s*action\s*:/i.test(l));
  return (marked ?? lines[lines.length - 1]).replace(/^\s*action\s*:\s*/i, '');
}

function thoughtText(s: Step): string {
  return s.thought ?? s.agent;
}

// Verbs that, applied to the task's target, are decisive rather than routine moves.
const GOAL_VERBS = new Set('put place clean heat cool use examine slice toggle craft unlock pick give buy'.split(' '));

/** ALFWorld-style prompts put the goal after "Your task is to:"; prefer that part when present. */
function goalText(instruction: string): string {
  return /task is to:?\s*(.*)$/is.exec(instruction)?.[1] ?? instruction;
}

/** Content words of the instruction, in order; the first is usually the object sought. */
export function targetWords(instruction: string): string[] {
  const words = goalText(instruction).toLowerCase().match(/[a-z]+/g) ?? [];
  return [...new Set(words.filter((w) => w.length >= 3 && !STOPWORDS.has(w)))];
}

function mentions(text: string, word: string): boolean {
  return new RegExp(`\\b${word}s?\\b`, 'i').test(text);
}

interface Candidate extends StepLabel {
  category: CriticalCategory;
  reason: string;
}

export function heuristicCandidates(t: Trajectory): Candidate[] {
  const steps = t.steps;
  const out: Candidate[] = [];

  const planStep = steps.findIndex((s) => PLAN_MARKERS.test(thoughtText(s)));
  if (planStep !== -1) out.push({ step: planStep, category: 'plan', reason: 'first turn that lays out a plan' });

  const corrections: Candidate[] = [];
  steps.forEach((s, i) => {
    if (i + 1 < steps.length && FAILURE_MARKERS.test(s.observation)) {
      const said = s.observation.trim().split('\n')[0].slice(0, 60);
      corrections.push({ step: i + 1, category: 'self-correction', reason: `turn after a failed or surprising observation ("${said}")` });
    }
  });
  if (corrections.length) out.push(corrections[0]);

  const targets = targetWords(t.instruction);
  for (const word of targets) {
    const reveal = steps.findIndex((s) => mentions(s.observation, word) && !mentions(actionText(s), word));
    if (reveal !== -1 && reveal + 1 < steps.length) {
      out.push({ step: reveal + 1, category: 'observation', reason: `turn after the observation that first shows the task's "${word}"` });
      break;
    }
  }

  for (let i = steps.length - 1; i >= 0; i--) {
    if (!THINK_ONLY.test(actionText(steps[i])) && actionText(steps[i]).trim() !== '') {
      out.push({ step: i, category: 'action', reason: 'final decisive action' });
      break;
    }
  }
  out.push(...corrections.slice(1));

  // Earlier decisive actions: the action's verb is one of the task's verbs and it names a target.
  const goalVerbs = new Set((goalText(t.instruction).toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => GOAL_VERBS.has(w)));
  steps.forEach((s, i) => {
    const act = actionText(s).trim().toLowerCase();
    const verb = act.split(/\s+/)[0];
    if (goalVerbs.has(verb) && targets.some((w) => mentions(act, w)) && !FAILURE_MARKERS.test(s.observation)) {
      out.push({ step: i, category: 'action', reason: `applies the task's "${verb}" to its target` });
    }
  });
  return out;
}

export function heuristicSelect(t: Trajectory, budget: number): { critical: StepLabel[]; repairs: string[] } {
  const k = budgetCount(t.steps.length, budget);
  const seen = new Set<number>();
  const critical: StepLabel[] = [];
  const skipped: string[] = [];
  for (const c of heuristicCandidates(t)) {
    if (seen.has(c.step)) continue;
    seen.add(c.step);
    if (critical.length < k) critical.push(c);
    else skipped.push(`${c.step} (${c.category})`);
  }
  return { critical, repairs: skipped.length ? [`budget: ${k} step(s) allowed, left out ${skipped.join(', ')}`] : [] };
}

export const heuristic = defineSelector({
  kind: 'rule',
  name: 'heuristic',
  label: 'Heuristic — visible signals, no model (first plan, turn after a failure, target seen, final action)',
  origin: 'the heuristic',
  rebuiltFromSeed: true,
  criticalArm: true,
  select(t, { budget }) {
    const { critical, repairs } = heuristicSelect(t, budget);
    if (critical.length === 0) throw new Error('no heuristic signal found (no planning thought, failure, target mention or final action)');
    return { critical, repairs, budget };
  },
});
