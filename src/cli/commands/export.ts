// atlas export <trajectories.jsonl> --format openai|agentgym|axolotl|llamafactory|labels --out <file>
// Marks exactly the steps of the chosen arm (default: critical = each trajectory's active selection).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from '../main.ts';
import { numberOption, parseCommandArgs, requireOption, intOption } from '../args.ts';
import { EXPORT_FORMATS, exportTrajectories, type ExportFormat } from '../../data/export.ts';
import { parseTrajectoriesJsonl } from '../../data/jsonl.ts';
import { ARMS, type Arm } from '../../data/arms.ts';
import { AGENT_TEXT_STYLES, type AgentTextStyle } from '../../data/agentText.ts';

const HELP = `usage: atlas export <trajectories.jsonl> --format ${EXPORT_FORMATS.join('|')} --out <file>
       [--arm ${ARMS.join('|')}] [--seed N] [--budget F] [--dataset-name NAME]
       [--agent-text ${AGENT_TEXT_STYLES.join('|')}]
  The supervised turns are the arm's steps (default: critical, the active selection).
  --agent-text thought-action writes agent turns as "Thought: …\nAction: …" (default: as imported).
  llamafactory also writes dataset_info.json and <out>.train.yaml (mask_history: true) next to <file>.`;

export const command: Command = {
  summary: 'export trajectories for OpenAI, AgentGym, Axolotl, LLaMA-Factory or as a labels file',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('export', argv, {
      format: { type: 'string' },
      out: { type: 'string' },
      arm: { type: 'string' },
      seed: { type: 'string' },
      budget: { type: 'string' },
      'dataset-name': { type: 'string' },
      'agent-text': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, true);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new Error(`expected exactly one trajectories file (got ${positionals.length}) (see "atlas export --help")`);
    const format = requireOption('export', values.format, 'format') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got "${format}")`);
    const arm = (values.arm ?? 'critical') as Arm;
    if (!ARMS.includes(arm)) throw new Error(`--arm must be one of ${ARMS.join(', ')} (got "${arm}")`);
    if (arm === 'highest-loss') throw new Error('--arm highest-loss needs per-step losses from a model; export it from the trainer instead');
    const agentText = (values['agent-text'] ?? 'as-written') as AgentTextStyle;
    if (!AGENT_TEXT_STYLES.includes(agentText)) throw new Error(`--agent-text must be one of ${AGENT_TEXT_STYLES.join(', ')} (got "${agentText}")`);
    const out = requireOption('export', values.out, 'out');
    const file = positionals[0];
    const { trajectories } = parseTrajectoriesJsonl(readFileSync(file, 'utf8'), file);
    const result = exportTrajectories(trajectories, format, {
      arm,
      seed: intOption('export', values.seed, 'seed', 0),
      budget: numberOption('export', values.budget, 'budget', 0.3),
      datasetName: values['dataset-name'],
      fileName: basename(out),
      agentText,
    });
    writeFileSync(out, result.text);
    const side: string[] = [];
    for (const [name, content] of Object.entries(result.sideFiles)) {
      const path = name === 'dataset_info.json' ? join(dirname(out), name) : `${out.replace(/\.jsonl?$/, '')}.${name}`;
      writeFileSync(path, content);
      side.push(path);
    }
    if (result.withoutSelectedSteps.length) {
      console.log(`export: warning: ${result.withoutSelectedSteps.length} trajectories have no step selected by arm "${arm}" (e.g. ${result.withoutSelectedSteps.slice(0, 3).join(', ')}); they carry no supervised turn`);
    }
    console.log(JSON.stringify({ out, format, arm, trajectories: trajectories.length, records: result.records, sideFiles: side, withoutSelectedSteps: result.withoutSelectedSteps.length }));
    return 0;
  },
};
