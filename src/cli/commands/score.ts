// atlas score --in <labelled.jsonl> [--against <other.jsonl> | --ground-truth]
//   [--selector NAME] [--against-selector NAME]
// atlas score --in <labelled.jsonl> --restart --model <model> [...]   (../restart-score.ts)
// Scores a selection against the built-in environments' ground-truth roles (precision,
// recall, F1 overall and per category), or against another selection (Cohen's kappa and
// Jaccard overlap). Prints a table, then the JSON report as the last line. With --restart,
// runs the paper's restart test of the selection instead.
import { readFile } from 'node:fs/promises';
import type { Command } from '../main.ts';
import { booleanOptions, parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { parseTrajectoriesJsonl } from '../../data/jsonl.ts';
import { CRITICAL_CATEGORIES } from '../../data/trajectory.ts';
import { agreement, scoreAgainstGroundTruth, type Prf } from '../../select/selector-scores.ts';
import { RESTART_HELP, RESTART_ONLY_FLAGS, runRestartScore } from '../restart-score.ts';

const HELP = `usage: atlas score --in <labelled.jsonl> [--against <other.jsonl> | --ground-truth]
  [--selector NAME]          which selection of --in to score (default: each trajectory's active one)
  [--against-selector NAME]  which selection of the other set (default: active); with no --against
                             file, compares two selectors of --in
  Default: --ground-truth.
${RESTART_HELP}`;

const fmt = (x: number | null) => (x === null ? '   -  ' : x.toFixed(3).padStart(6));

type Skipped = { id: string; reason: string }[];
const noSelection = (reason: string) => /^no labelled selection/.test(reason);
const makeSelection = (input: string) => `make one with \`atlas select --in ${input} --selector heuristic --out <labelled.jsonl>\` (or --selector oracle / judge), then score that file`;

const lacking = (total: number, input: string, what: string) => (total === 1 ? `the one trajectory in ${input} has no ${what.replace(/^a /, '')}` : `none of the ${total} trajectories in ${input} has ${what}`);

/** Why nothing could be scored, pointing at the command that fixes it; undefined when the cause is mixed. */
export function nothingScored(input: string, total: number, skipped: Skipped, selector?: string): string | undefined {
  if (total === 0) return `${input} holds no trajectories`;
  if (skipped.length === 0) return undefined;
  const by = selector ? ` by "${selector}"` : '';
  const noTruth = skipped.filter((s) => s.reason === 'no ground-truth roles').length;
  const unselected = skipped.filter((s) => noSelection(s.reason)).length;
  if (unselected > 0 && unselected + noTruth === skipped.length) {
    const truthNote = noTruth ? ` (${noTruth} of them have no ground-truth roles either)` : '';
    return `${lacking(total, input, `a selection${by} to score`)}${truthNote}: ${makeSelection(input)}`;
  }
  if (noTruth === skipped.length) return `${lacking(total, input, 'ground-truth roles')} — only demonstrations from the built-in environments do (\`atlas env demo --env household --n 20 --out demo.jsonl\`); to compare two selections use --against <other.jsonl> or --against-selector NAME`;
  return undefined;
}

/** The "skipped" line, with the command to run when the cause is a missing selection. */
function skippedLine(input: string, skipped: Skipped): string {
  const hint = noSelection(skipped[0].reason) ? ` — ${makeSelection(input)}` : '';
  return `  skipped ${skipped.length} (first: ${skipped[0].id}: ${skipped[0].reason})${hint}`;
}

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
    const parsed = parseCommandArgsOrHelp('score', argv, HELP, {
      ...stringOptions('in', 'against', 'selector', 'against-selector'),
      ...booleanOptions('ground-truth', 'restart'),
      // --restart's options (../restart-score.ts)
      ...stringOptions('model', 'episodes', 'seed', 'max-steps', 'selection', 'per-trajectory', 'batch'),
      ...booleanOptions('json'),
    });
    if (!parsed) return 0;
    const { values } = parsed;
    const input = requireOption('score', values.in, 'in');
    if (values.restart) {
      if (values.against || values['ground-truth'] || values['against-selector']) throw new Error('--restart tests one selection: leave out --against, --against-selector and --ground-truth (atlas score)');
      return runRestartScore(await load(input), { ...values, selection: values.selection ?? values.selector });
    }
    const restartOnly = RESTART_ONLY_FLAGS.filter((f) => values[f] !== undefined);
    if (restartOnly.length) throw new Error(`${restartOnly.map((f) => `--${f}`).join(', ')} only with --restart (atlas score)`);
    if (values.against && values['ground-truth']) throw new Error('give --against or --ground-truth, not both (atlas score)');
    const a = await load(input);

    if (values.against || values['against-selector']) {
      const b = values.against ? await load(values.against) : a;
      const r = agreement(a, b, values.selector, values['against-selector']);
      // Name the file that lacks the selection: --in, or the --against file.
      const second = values.against !== undefined && r.skipped.length > 0 && r.skipped.every((x) => x.reason.endsWith('in the second set'));
      const plain = r.skipped.map((x) => ({ ...x, reason: x.reason.replace(/ in the (first|second) set$/, '') }));
      const why = r.trajectories === 0 ? nothingScored(second ? values.against! : input, second ? b.length : a.length, plain, second ? values['against-selector'] : values.selector) : undefined;
      if (why) {
        console.log(`score: nothing to compare: ${why}`);
        console.log(JSON.stringify({ agreement: r, message: why }));
        return 1;
      }
      console.log(`agreement over ${r.trajectories} trajectories, ${r.steps} steps`);
      console.log(`  both chose ${r.bothChose}, only first ${r.onlyA}, only second ${r.onlyB}, neither ${r.neither}`);
      console.log(`  Cohen's kappa ${fmt(r.kappa)}   Jaccard ${fmt(r.jaccard)}   mean per-trajectory Jaccard ${fmt(r.meanJaccard)}`);
      if (r.skipped.length) console.log(skippedLine(input, r.skipped));
      console.log(JSON.stringify({ agreement: r }));
      return r.trajectories > 0 ? 0 : 1;
    }

    const r = scoreAgainstGroundTruth(a, values.selector);
    const why = r.trajectories === 0 ? nothingScored(input, a.length, r.skipped, values.selector) : undefined;
    if (why) {
      // No table of dashes: say what is missing and which command makes it.
      console.log(`score: nothing to score: ${why}`);
      console.log(JSON.stringify({ groundTruth: r, message: why }));
      return 1;
    }
    const row = (name: string, x: Prf, extra = '') => `  ${name.padEnd(16)} ${fmt(x.precision)} ${fmt(x.recall)} ${fmt(x.f1)}   ${String(x.tp).padStart(5)} ${String(x.fp).padStart(5)} ${String(x.fn).padStart(5)}${extra}`;
    console.log(`ground truth: ${r.trajectories} trajectories, ${r.steps} steps`);
    console.log(`  ${'category'.padEnd(16)}   prec    rec     f1      tp    fp    fn   detected`);
    console.log(row('critical (any)', r.overall));
    for (const c of CRITICAL_CATEGORIES) console.log(row(c, r.perCategory[c], `   ${fmt(r.perCategory[c].detectionRecall)}`));
    if (r.skipped.length) console.log(skippedLine(input, r.skipped));
    console.log(JSON.stringify({ groundTruth: r }));
    return r.trajectories > 0 ? 0 : 1;
  },
};
