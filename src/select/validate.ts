// Turns a selector's free-text reply into critical-step labels. Every change made on the way
// (text around the JSON, dropped indices, unknown categories, budget cuts) is written to
// `repairs` so nothing is lost silently. A reply with no usable step is an error.
import { CRITICAL_CATEGORIES, type CriticalCategory, type StepLabel } from '../data/trajectory.ts';
import { budgetCount } from '../data/arms.ts';

export type ReplyResult =
  | { ok: true; plan?: string; critical: StepLabel[]; repairs: string[] }
  | { ok: false; error: string };

/** Finds the JSON object in a reply that may have prose or ``` fences around it. */
export function extractJson(text: string): { ok: true; value: unknown; repairs: string[] } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'the reply was empty' };
  try {
    return { ok: true, value: JSON.parse(trimmed), repairs: [] };
  } catch {
    // fall through: look for an object inside the text
  }
  let firstError: string | undefined;
  for (const candidate of objectCandidates(trimmed)) {
    try {
      const value = JSON.parse(candidate);
      if (value && typeof value === 'object') {
        return { ok: true, value, repairs: ['extracted the JSON object from text around it'] };
      }
    } catch (err) {
      firstError ??= err instanceof Error ? err.message : String(err);
    }
  }
  if (firstError) return { ok: false, error: `malformed JSON (${firstError})` };
  return { ok: false, error: 'no JSON object found in the reply' };
}

/** Balanced {...} spans, outermost first, skipping braces inside strings. */
function* objectCandidates(text: string): Generator<string> {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    let escaped = false;
    let end = -1;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        end = i;
        break;
      }
    }
    // An unterminated object still counts as a candidate so its parse error is reported.
    yield end === -1 ? text.slice(start) : text.slice(start, end + 1);
    if (end === -1) return;
  }
}

const CATEGORY_ALIASES: Record<string, CriticalCategory> = {
  plan: 'plan',
  'plan creation': 'plan',
  planning: 'plan',
  observation: 'observation',
  'critical observation': 'observation',
  action: 'action',
  'critical action': 'action',
  'self-correction': 'self-correction',
  'self correction': 'self-correction',
  selfcorrection: 'self-correction',
  correction: 'self-correction',
};

export function normaliseCategory(raw: string): CriticalCategory | undefined {
  const key = raw.trim().toLowerCase().replace(/[_]+/g, ' ').replace(/\s+/g, ' ');
  if ((CRITICAL_CATEGORIES as readonly string[]).includes(key)) return key as CriticalCategory;
  return CATEGORY_ALIASES[key] ?? CATEGORY_ALIASES[key.replace(/-/g, ' ')];
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Validates a reply against a trajectory of `nSteps` steps and the budget fraction. */
export function validateReply(text: string, nSteps: number, budget: number): ReplyResult {
  const extracted = extractJson(text);
  if (!extracted.ok) return extracted;
  const repairs = [...extracted.repairs];
  const value = extracted.value;
  let list: unknown;
  let plan: string | undefined;
  if (Array.isArray(value)) {
    repairs.push('the reply was a bare list; read it as "critical"');
    list = value;
  } else {
    const obj = value as Record<string, unknown>;
    list = obj.critical;
    if (typeof obj.plan === 'string') plan = obj.plan.trim();
    else if (Array.isArray(obj.plan) && obj.plan.every((p) => typeof p === 'string')) {
      plan = (obj.plan as string[]).map((p) => p.trim()).join('\n');
      repairs.push('plan was a list of strings; joined with newlines');
    } else if (obj.plan !== undefined) repairs.push(`dropped plan of unexpected type ${describe(obj.plan)}`);
    else repairs.push('the reply had no plan');
  }
  if (!Array.isArray(list)) {
    return { ok: false, error: `"critical" is ${list === undefined ? 'missing' : `not a list (${describe(list)})`}` };
  }

  const labels: StepLabel[] = [];
  const seen = new Set<number>();
  list.forEach((entry, position) => {
    const where = `entry ${position}`;
    let stepRaw: unknown;
    let categoryRaw: unknown;
    let reasonRaw: unknown;
    if (typeof entry === 'number' || typeof entry === 'string') {
      stepRaw = entry;
      repairs.push(`${where}: bare step ${describe(entry)} without category or reason`);
    } else if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
      const e = entry as Record<string, unknown>;
      stepRaw = e.step ?? e.index;
      categoryRaw = e.category;
      reasonRaw = e.reason;
    } else {
      repairs.push(`${where}: dropped ${describe(entry)}: not an object`);
      return;
    }
    let step: number;
    if (typeof stepRaw === 'number') step = stepRaw;
    else if (typeof stepRaw === 'string' && /^\s*-?\d+\s*$/.test(stepRaw)) {
      step = Number(stepRaw);
      repairs.push(`${where}: step ${describe(stepRaw)} was a string; read as ${step}`);
    } else {
      repairs.push(`${where}: dropped: step ${describe(stepRaw)} is not a number`);
      return;
    }
    if (!Number.isInteger(step)) return void repairs.push(`${where}: dropped step ${step}: not an integer`);
    if (step < 0 || step >= nSteps) return void repairs.push(`${where}: dropped step ${step}: out of range 0..${nSteps - 1}`);
    if (seen.has(step)) return void repairs.push(`${where}: dropped duplicate step ${step}`);
    seen.add(step);
    const label: StepLabel = { step };
    if (typeof categoryRaw === 'string') {
      const category = normaliseCategory(categoryRaw);
      if (category) {
        label.category = category;
        if (category !== categoryRaw) repairs.push(`${where}: category ${describe(categoryRaw)} read as "${category}"`);
      } else repairs.push(`${where}: step ${step}: removed unknown category ${describe(categoryRaw)}`);
    } else if (categoryRaw !== undefined) repairs.push(`${where}: step ${step}: removed category ${describe(categoryRaw)}: not a string`);
    if (typeof reasonRaw === 'string') {
      const oneLine = reasonRaw.replace(/\s*\n\s*/g, ' ').trim();
      if (oneLine) label.reason = oneLine;
    } else if (reasonRaw !== undefined) repairs.push(`${where}: step ${step}: removed reason ${describe(reasonRaw)}: not a string`);
    labels.push(label);
  });

  if (labels.length === 0) {
    const why = list.length === 0 ? 'the reply listed no critical step' : `none of the ${list.length} listed steps was usable`;
    return { ok: false, error: `${why} (steps are numbered 0..${nSteps - 1})` };
  }
  const k = budgetCount(nSteps, budget);
  if (labels.length > k) {
    const cut = labels.splice(k);
    repairs.push(`budget: kept the first ${k} of ${k + cut.length} steps, dropped ${cut.map((l) => l.step).join(', ')}`);
  }
  return { ok: true, plan, critical: labels, repairs };
}
