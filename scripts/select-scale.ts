// `atlas select` at dataset scale, killed halfway and run again (docs/selection.md, "At dataset
// scale"): npx tsx scripts/select-scale.ts [--trajectories 14000] [--concurrency 32]
//   [--latency 200-800] [--kill-at 0.5 | --no-kill] [--dir DIR [--keep]] [--json]
//   [--atlas <another checkout>/bin/atlas.mjs   (to compare; --no-kill unless it resumes)]
// Prints the figures recorded in the docs; exit code 1 when a check failed. The work is done by
// test/unit/select/select-scale.ts, which the CI test runs on a few hundred trajectories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport, runScale } from '../test/unit/select/select-scale.ts';

const { values } = parseArgs({
  options: {
    trajectories: { type: 'string', default: '14000' },
    concurrency: { type: 'string', default: '32' },
    latency: { type: 'string', default: '200-800' },
    'kill-at': { type: 'string', default: '0.5' },
    'no-kill': { type: 'boolean', default: false },
    dir: { type: 'string' },
    atlas: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const latency = /^(\d+)-(\d+)$/.exec(values.latency!);
if (!latency) throw new Error(`--latency must be MIN-MAX in milliseconds (got ${values.latency})`);
const dir = values.dir ?? mkdtempSync(path.join(tmpdir(), 'atlas-select-scale-'));
const started = Date.now();
const report = await runScale({
  dir,
  trajectories: Number(values.trajectories),
  concurrency: Number(values.concurrency),
  latencyMs: [Number(latency[1]), Number(latency[2])],
  killAt: values['no-kill'] ? null : Number(values['kill-at']),
  atlas: values.atlas === undefined ? undefined : path.resolve(values.atlas),
  log: (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`),
});
console.log(formatReport(report));
if (values.json) console.log(JSON.stringify(report));
if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
else console.error(`files kept in ${dir}`);
process.exitCode = report.problems.length ? 1 : 0;
