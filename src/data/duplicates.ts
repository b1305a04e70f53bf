// Trajectories a file holds more than once, and ids it uses more than once.
//   - ALFWorld prompt files hold each task twice: react_X (with thoughts) and act_X (without).
//     When act_X has exactly react_X's actions and observations it is the same trajectory: it is
//     reported as a duplicate and dropped (the react one, which has more, is kept).
//   - Identical trajectories (same system text, preamble, instruction, agent turns and
//     observations) are reported as duplicates of the first one. They are kept — the file
//     holds them twice, and dropping records is the user's call — with `kept: true`.
import type { Trajectory } from './trajectory.ts';

export interface Duplicate {
  dropped: string;
  keptAs: string;
  reason: string;
  /** True when both were kept (identical records); absent when `dropped` was left out. */
  kept?: boolean;
}

/** Ids must be unique: a clashing id becomes "<id>#2" (then "#3", …), with a note. Returns how many were renamed. */
export function makeIdsUnique(ts: Trajectory[]): number {
  const seen = new Map<string, number>();
  let renamed = 0;
  for (const t of ts) {
    const n = seen.get(t.id) ?? 0;
    seen.set(t.id, n + 1);
    if (n > 0) {
      let id = `${t.id}#${n + 1}`;
      while (seen.has(id)) id += '+';
      seen.set(id, 1);
      (t.provenance ??= {}).notes = [...(t.provenance.notes ?? []), `id "${t.id}" was already used in this file; renamed "${id}"`];
      t.id = id;
      renamed++;
    }
  }
  return renamed;
}

export function mergeActVariants(ts: Trajectory[]): Duplicate[] {
  const byId = new Map(ts.map((t) => [t.id, t]));
  const out: Duplicate[] = [];
  for (const act of ts) {
    const m = /^act_(.+)$/.exec(act.id);
    const react = m ? byId.get(`react_${m[1]}`) : undefined;
    if (!react || react.source.file !== act.source.file || act.source.format !== 'react' || react.source.format !== 'react') continue;
    // An act transcript may keep the "OK." that answered a removed thought at the end of its opening.
    const stray = (x: string) => x.replace(/(\n[ \t]*ok\.?[ \t]*)+$/i, '');
    const sameInstruction = stray(act.instruction) === stray(react.instruction);
    const same =
      sameInstruction &&
      act.steps.length === react.steps.length &&
      act.steps.every((s, i) => s.thought === undefined && s.action === react.steps[i].action && s.observation === react.steps[i].observation);
    const notes = (react.provenance ??= {}).notes ?? (react.provenance.notes = []);
    if (same) {
      const strayOk = act.instruction !== react.instruction ? ' (its opening also ends with a stray "OK." line)' : '';
      out.push({ dropped: act.id, keptAs: react.id, reason: `same instruction, actions and observations as the kept one, without thoughts${strayOk}` });
      notes.push(`"${act.id}" in the same file is this trajectory without thoughts; it was not imported separately`);
    } else {
      notes.push(`"${act.id}" in the same file is a thought-less version that differs from this one; both were imported`);
    }
  }
  return out;
}

/** The parts that make two trajectories the same, in order. */
function* contentParts(t: Trajectory): Generator<string> {
  yield t.system ?? '\u0000';
  for (const p of t.preamble ?? []) yield `${p.role}\u0001${p.text}`;
  yield t.instruction;
  for (const s of t.steps) {
    yield s.agent;
    yield s.observation;
  }
}

/** 53-bit string hash (cyrb53), fed part by part so no big string is built. */
function contentHash(t: Trajectory): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (const part of contentParts(t)) {
    for (let i = 0; i <= part.length; i++) {
      const ch = i < part.length ? part.charCodeAt(i) : 0x1f; // a separator after each part
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function sameContent(a: Trajectory, b: Trajectory): boolean {
  const x = contentParts(a);
  const y = contentParts(b);
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done === q.done;
    if (p.value !== q.value) return false;
  }
}

export function findIdentical(ts: readonly Trajectory[]): Duplicate[] {
  const seen = new Map<number, Trajectory[]>();
  const out: Duplicate[] = [];
  for (const t of ts) {
    const h = contentHash(t);
    const bucket = seen.get(h) ?? [];
    const first = bucket.find((o) => sameContent(o, t));
    if (first) out.push({ dropped: t.id, keptAs: first.id, kept: true, reason: `identical to "${first.id}" (same instruction, agent turns and observations); the file holds it twice and both were kept` });
    else {
      bucket.push(t);
      seen.set(h, bucket);
    }
  }
  return out;
}
