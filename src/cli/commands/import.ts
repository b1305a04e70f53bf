// atlas import <file> [--format NAME] --out <trajectories.jsonl>
// Reads any supported trajectory file (streaming), writes canonical trajectories JSONL and
// prints a JSON summary as its last line: trajectories, steps, rejected records with reasons.
import { createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Command } from '../main.ts';
import { booleanOptions, parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { IMPORT_FORMATS, type ImportFormat } from '../../data/formats.ts';
import { importTrajectories, type ImportSummary } from '../../data/importer.ts';
import { nodeFileSource } from '../../data/sources/node.ts';
import { serializeTrajectory } from '../../data/jsonl.ts';
import { applyLabels } from '../../data/labels.ts';
import { plural } from '../plural.ts';

const HELP = `usage: atlas import <file> [--format ${IMPORT_FORMATS.join('|')}] --out <trajectories.jsonl>
       [--keep-variants] [--keep-failed] [--env NAME] [--labels <labels.jsonl>]
  Detects the format per record unless --format is given. --keep-variants keeps ReAct
  "act_X" transcripts that only repeat "react_X" without thoughts (default: reported as
  duplicates). --keep-failed imports runs whose record says they failed (reward / success /
  result: search traces, step records), marked in "outcome" (default: left out, counted in
  the summary, so they are not trained on). --labels applies a labels file (one line per
  trajectory id: steps, categories, reasons, selector; as \`atlas export --format labels\`
  writes) as each trajectory's active selection; lines that do not fit are reported with
  file:line and reason.`;

const MAX_PRINTED_REJECTIONS = 1000;

export const command: Command = {
  summary: 'import agent trajectories (AgentGym, ShareGPT, Agent-FLAN, OpenAI, Axolotl, ReAct text, step records, search traces) to trajectories JSONL',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('import', argv, HELP, {
      ...stringOptions('format', 'out', 'labels', 'env'),
      ...booleanOptions('keep-variants', 'keep-failed'),
    }, true);
    if (!parsed) return 0;
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new Error(`expected exactly one input file (got ${positionals.length}) (see "atlas import --help")`);
    const out = requireOption('import', values.out, 'out');
    const format = values.format as ImportFormat | undefined;
    if (format !== undefined && !IMPORT_FORMATS.includes(format)) throw new Error(`--format must be one of ${IMPORT_FORMATS.join(', ')} (got "${format}")`);
    const file = positionals[0];
    const { source, totalBytes } = nodeFileSource(file);
    let lastPct = -1;
    const { trajectories, summary } = await importTrajectories(source, {
      file,
      format,
      totalBytes,
      env: values.env,
      variants: values['keep-variants'] ? 'keep' : 'merge',
      failedRuns: values['keep-failed'] ? 'keep' : 'leave-out',
      onProgress: (read, total) => {
        const pct = total ? Math.floor((100 * read) / total) : 0;
        if (total && total > 8 << 20 && pct >= lastPct + 10) {
          lastPct = pct;
          process.stderr.write(`import: ${pct}% of ${(total / 1e6).toFixed(1)} MB\n`);
        }
      },
    });
    // A labels file (from `atlas export --format labels`, or any tool) adds its selections.
    let labels: { file: string; applied: number; problems: { file: string; line: number; reason: string }[] } | undefined;
    if (values.labels) {
      let text: string;
      try {
        text = readFileSync(values.labels, 'utf8');
      } catch (err) {
        throw new Error(`cannot read --labels ${values.labels}: ${(err as Error).message}`);
      }
      labels = { file: values.labels, ...applyLabels(trajectories, text, values.labels) };
      for (const p of labels.problems) process.stderr.write(`import: ${p.file}:${p.line}: ${p.reason}\n`);
    }
    // Nothing usable: write nothing, so a failed run neither leaves an empty file nor clobbers
    // an existing one. Otherwise write beside the target and rename, so a crash midway does not either.
    if (trajectories.length > 0) await writeAtomically(out, (function* () {
      for (const t of trajectories) yield serializeTrajectory(t) + '\n';
    })());
    // Rejections are counted per record: one rejection may stand for a file of unread records.
    const rejectedTotal = summary.rejectedRecords;
    if (summary.rejected.length > MAX_PRINTED_REJECTIONS) {
      const listFile = `${out}.rejected.jsonl`;
      const w = createWriteStream(listFile);
      for (const r of summary.rejected) if (!w.write(JSON.stringify(r) + '\n')) await once(w, 'drain');
      w.end();
      await once(w, 'finish');
      console.log(`import: ${plural(rejectedTotal, 'rejected record')}; all of them are listed in ${listFile}`);
    }
    const target = summary.trajectories > 0 ? `→ ${out}` : `(nothing written to ${out})`;
    console.log(`import: ${plural(summary.trajectories, 'trajectory', 'trajectories')} (${plural(summary.steps, 'step')}) ${target}; ${rejectedTotal} rejected, ${plural(summary.duplicates.length, 'duplicate')} reported`);
    for (const line of detailLines(summary)) console.log(`import: ${line}`);
    if (labels) console.log(`import: ${plural(labels.applied, 'selection')} applied from ${labels.file}; ${plural(labels.problems.length, 'label line')} not applied`);
    console.log(JSON.stringify({ out, ...summary, rejected: summary.rejected.slice(0, MAX_PRINTED_REJECTIONS), rejectedTotal, ...(labels && { labels }) }));
    // Nothing usable came out: say so with a failing exit code, so scripts do not go on with an empty file.
    if (summary.trajectories === 0) {
      console.error(`atlas import: no trajectory could be imported from ${file}${rejectedTotal ? ` (${plural(rejectedTotal, 'record')} rejected, listed above)` : ' (the file holds no records)'}`);
      return 1;
    }
    return 0;
  },
};

/** What else the summary says, one sentence each: step records grouped, failed runs, identical records. */
function detailLines(summary: ImportSummary): string[] {
  const out: string[] = [];
  if (summary.stepRecords && summary.stepRecords.records > summary.stepRecords.episodes) out.push(`${plural(summary.stepRecords.records, 'step record')} grouped into ${plural(summary.stepRecords.episodes, 'episode')} (each trajectory is its episode's longest history and output)`);
  const failed = summary.failedRuns;
  if (failed?.leftOut) out.push(`${plural(failed.leftOut, 'failed run')} left out, so ${failed.leftOut === 1 ? 'it is' : 'they are'} not trained on (${failed.leftOut === 1 ? 'its record says' : 'their records say'} so: reward / success / result); --keep-failed imports ${failed.leftOut === 1 ? 'it' : 'them'}, marked in "outcome"`);
  if (failed?.kept) out.push(`${plural(failed.kept, 'failed run')} kept (--keep-failed), marked with outcome.success false`);
  const identical = summary.duplicates.filter((d) => d.kept).length;
  if (identical) out.push(`${plural(identical, 'trajectory', 'trajectories')} identical to an earlier one (both kept; listed in "duplicates")`);
  return out;
}

/** Writes lines to `<file>.<pid>.tmp`, then renames it over `file`; removes the temporary file on failure. */
async function writeAtomically(file: string, lines: Iterable<string>): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const stream = createWriteStream(tmp);
    for (const line of lines) if (!stream.write(line)) await once(stream, 'drain');
    stream.end();
    await once(stream, 'finish');
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
