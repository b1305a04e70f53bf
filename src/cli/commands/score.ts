// atlas score --in <labelled.jsonl> [--against <other.jsonl> | --ground-truth]
//   [--selector NAME] [--against-selector NAME]
// Scores a selection against the built-in environments' ground-truth roles (precision,
// recall, F1 overall and per category), or against another selection (Cohen's kappa and
// Jaccard overlap). Prints a table, then the JSON report as the last line.
import { readFile } from 'node:fs/promises';
import type { Command } from '../main.ts';
import { parseCommandArgs, requireOption } from '../args.ts';
import { parseTrajectoriesJsonl } from '../../data/jsonl.ts';
import { CRITICAL_CATEGORIES } from '../../data/trajectory.ts';
import { agreement, scoreAgainstGroundTruth, type Prf } from '../../select/metrics.ts';

const HELP = `usage: atlas score --in <labelled.jsonl> [--against <other.jsonl> | --ground-truth]
  [--selector NAME]          which selection of --in to score (default: each trajectory's active one)
  [--against-selector NAME]  which selection of the other set (default: active); with no --against
                             file, compares two selectors of --in
  Default: --ground-truth.`;

const fmt = (x: number | null) => (x === null ? '   -  ' : x.toFixed(3).padStart(6));

async function load(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseTrajectoriesJsonl(text, file).trajectories;
}

export const command: Command = {
  summary: 'score selections against ground truth (P/R/F1) or each other (kappa, overlap)',
  async run(argv) {
    const { values } = parseCommandArgs('score', argv, {
      in: { type: 'string' },
      against: { type: 'string' },
      'ground-truth': { type: 'boolean' },
      selector: { type: 'string' },
      'against-selector': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const input = requireOption('score', values.in, 'in');
    if (values.against && values['ground-truth']) throw new Error('give --against or --ground-truth, not both (atlas score)');
    const a = await load(input);

    if (values.against || values['against-selector']) {
      const b = values.against ? await load(values.against) : a;
      const r = agreement(a, b, values.selector, values['against-selector']);
      console.log(`agreement over ${r.trajectories} trajectories, ${r.steps} steps`);
      console.log(`  both chose ${r.bothChose}, only first ${r.onlyA}, only second ${r.onlyB}, neither ${r.neither}`);
      console.log(`  Cohen's kappa ${fmt(r.kappa)}   Jaccard ${fmt(r.jaccard)}   mean per-trajectory Jaccard ${fmt(r.meanJaccard)}`);
      if (r.skipped.length) console.log(`  skipped ${r.skipped.length} (first: ${r.skipped[0].id}: ${r.skipped[0].reason})`);
      console.log(JSON.stringify({ agreement: r }));
      return r.trajectories > 0 ? 0 : 1;
    }

    const r = scoreAgainstGroundTruth(a, values.selector);
    const row = (name: string, x: Prf, extra = '') => `  ${name.padEnd(16)} ${fmt(x.precision)} ${fmt(x.recall)} ${fmt(x.f1)}   ${String(x.tp).padStart(5)} ${String(x.fp).padStart(5)} ${String(x.fn).padStart(5)}${extra}`;
    console.log(`ground truth: ${r.trajectories} trajectories, ${r.steps} steps`);
    console.log(`  ${'category'.padEnd(16)}   prec    rec     f1      tp    fp    fn   detected`);
    console.log(row('critical (any)', r.overall));
    for (const c of CRITICAL_CATEGORIES) console.log(row(c, r.perCategory[c], `   ${fmt(r.perCategory[c].detectionRecall)}`));
    if (r.skipped.length) console.log(`  skipped ${r.skipped.length} (first: ${r.skipped[0].id}: ${r.skipped[0].reason})`);
    console.log(JSON.stringify({ groundTruth: r }));
    return r.trajectories > 0 ? 0 : 1;
  },
};
