// atlas select --in <trajectories.jsonl> --selector <a name in src/select/registry.ts SELECTORS>
//   [--base-url URL --model NAME] [--api-key-env VAR] [--budget 0.3] [--concurrency N] [--seed S]
//   [--dry-run] --out <labelled.jsonl>
// Appends one Selection per trajectory and writes them all, in input order, as they are made
// (streamed in and out: memory does not grow with the input); progress and an ETA go to stderr
// and the last line printed on stdout is the JSON summary. Killed, the same command resumes
// (src/cli/select-resume.ts). The API key is read from the environment variable named by
// --api-key-env (default OPENAI_API_KEY), never from an argument.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '../main.ts';
import { booleanOptions, intOption, numberOption, parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { DEFAULT_BUDGET } from '../../data/arms.ts';
import type { Trajectory } from '../../data/trajectory.ts';
import { selectInOrder, dryRun, selectionName, type RunOptions, type RunProgress, type ResumeState } from '../../select/run.ts';
import { checkInput, fileBytes, findResume, readTrajectoryFile, ResumableOutput, resumeFiles, type SelectJob } from '../select-resume.ts';
import { getSelector, isSelectorName, SELECTOR_NAMES } from '../../select/registry.ts';
import { FileCacheStore, DEFAULT_CACHE_DIR } from '../../select/cache-node.ts';
import { stepLossFromJsonl } from '../../select/step-loss-file.ts';
import { modelStepLoss } from '../model-arg.ts';
import type { JudgeMode } from '../../select/judge.ts';

const HELP = `usage: atlas select --in <trajectories.jsonl> --selector ${SELECTOR_NAMES.join('|')} --out <labelled.jsonl>
  [--budget 0.3] [--seed S] [--concurrency N] [--dry-run]
  oracle:       --base-url URL --model NAME [--api-key-env VAR (default OPENAI_API_KEY)]
                [--timeout-ms 60000] [--max-retries 4] [--no-json-mode]
                [--price-prompt P --price-completion P   (per 1M tokens, for the cost estimate)]
  judge:        --model <local model folder | hub id> [--judge-mode score|generate] [--runtime node|wasm]
                [--max-new-tokens 512] [--max-step-chars 300 (score mode)]
                a hub id downloads with --allow-remote (from huggingface.co) or --hub URL (a mirror that
                serves <org>/<name>/resolve/main/<file>, e.g. https://hf-mirror.com); downloads are kept
                in --hub-cache DIR (default <cache-dir>/hub)
  highest-loss: --step-loss <file.jsonl with {"id","stepLoss":[...]}> | --model <base model: HF folder, .bin or preset:NAME> (per-step loss on WebGPU)
  ground-truth: the experts' own roles, on built-in demonstrations (atlas env demo); others fail with the reason
  cache:        [--cache-dir ${DEFAULT_CACHE_DIR}] [--no-cache]   (oracle and judge answers)
  killed or stopped, the same command resumes from <out>.partial and <out>.journal: nothing finished is asked again`;

/** "1h02m", "3m05s", "42s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The progress line; `rate` (trajectories a second in this run) and the ETA from it once there is one. */
export function progressLine(p: RunProgress, rate?: number): string {
  const s = p.summary;
  const cost = s.cost === null ? '' : ` cost ${s.cost.toFixed(4)}`;
  const eta = rate && rate > 0 && p.done < p.total ? ` · ${(rate * 60).toFixed(0)}/min eta ${formatDuration((p.total - p.done) / rate)}` : '';
  return `select: ${p.done}/${p.total} labelled ${s.labelled} failed ${s.failed.length} requests ${s.requests} retries ${s.retries} cache ${s.cacheHits} tokens ${s.tokens.prompt}+${s.tokens.completion}${cost}${eta}\n`;
}

export const command: Command = {
  summary: 'choose critical steps (heuristic, oracle LLM, local judge, ground truth, or a baseline arm: random, rejected, highest-loss, full)',
  async run(argv) {
    // Grouped as HELP lists them: the common ones (--model serves oracle, judge and highest-loss),
    // then the oracle's, the judge's, highest-loss's and the cache's.
    const parsed = parseCommandArgsOrHelp('select', argv, HELP, {
      ...stringOptions('in', 'out', 'selector', 'model', 'budget', 'seed', 'concurrency'),
      ...booleanOptions('dry-run'),
      ...stringOptions('base-url', 'api-key-env', 'timeout-ms', 'max-retries', 'price-prompt', 'price-completion'),
      ...booleanOptions('no-json-mode'),
      ...stringOptions('judge-mode', 'runtime', 'max-new-tokens', 'max-step-chars', 'hub', 'hub-cache'),
      ...booleanOptions('allow-remote'),
      ...stringOptions('step-loss', 'cache-dir'),
      ...booleanOptions('no-cache'),
    });
    if (!parsed) return 0;
    const { values } = parsed;
    const input = requireOption('select', values.in, 'in');
    const selector = requireOption('select', values.selector, 'selector');
    if (!isSelectorName(selector)) throw new Error(`--selector must be one of ${SELECTOR_NAMES.join(', ')} (got "${selector}")`);
    const dry = Boolean(values['dry-run']);
    const out = dry ? values.out : requireOption('select', values.out, 'out');
    const budget = numberOption('select', values.budget, 'budget', DEFAULT_BUDGET);
    if (!(budget > 0 && budget <= 1)) throw new Error(`--budget must be in (0, 1] (got ${budget})`);
    const concurrency = intOption('select', values.concurrency, 'concurrency', 4);
    if (concurrency < 1) throw new Error(`--concurrency must be at least 1 (got ${concurrency})`);
    const seed = intOption('select', values.seed, 'seed', 0);

    // Read once to check every line and count them, before anything is asked; then streamed.
    let total: number;
    try {
      total = await checkInput(input);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw e.code ? new Error(`cannot read --in ${input}: ${e.message}`) : e;
    }
    const options: RunOptions = { selector, budget, seed, concurrency };
    const pricePrompt = values['price-prompt'];
    const priceCompletion = values['price-completion'];
    if ((pricePrompt === undefined) !== (priceCompletion === undefined)) throw new Error('give both --price-prompt and --price-completion (per 1M tokens), or neither');
    if (pricePrompt !== undefined) {
      options.price = { promptPerM: numberOption('select', pricePrompt, 'price-prompt', 0), completionPerM: numberOption('select', priceCompletion, 'price-completion', 0) };
    }
    if (getSelector(selector).kind === 'model' && !values['no-cache']) options.cache = new FileCacheStore(values['cache-dir'] ?? DEFAULT_CACHE_DIR);

    if (selector === 'oracle') {
      const baseUrl = requireOption('select', values['base-url'], 'base-url');
      const model = requireOption('select', values.model, 'model');
      const keyVar = values['api-key-env'] ?? 'OPENAI_API_KEY';
      const apiKey = process.env[keyVar];
      if (!apiKey) process.stderr.write(`select: no API key (${keyVar} is unset); sending requests without one\n`);
      options.oracle = {
        baseUrl,
        model,
        apiKey,
        jsonMode: !values['no-json-mode'],
        timeoutMs: intOption('select', values['timeout-ms'], 'timeout-ms', 60_000),
        maxRetries: intOption('select', values['max-retries'], 'max-retries', 4),
      };
    } else if (selector === 'judge') {
      const model = requireOption('select', values.model, 'model');
      const mode = (values['judge-mode'] ?? 'score') as JudgeMode;
      if (mode !== 'score' && mode !== 'generate') throw new Error(`--judge-mode must be score or generate (got "${mode}")`);
      const runtime = values.runtime ?? 'node';
      if (runtime !== 'node' && runtime !== 'wasm') throw new Error(`--runtime must be node or wasm (got "${runtime}")`);
      if (runtime === 'wasm') await (await import('../../select/judge-node.ts')).useOnnxruntimeWebInNode();
      const { loadJudge, normalizeHubMirror, DEFAULT_HUB_MIRROR } = await import('../../select/judge.ts');
      // A folder on disk loads offline; anything else is a hub id (needs --allow-remote or --hub, and a network).
      const local = existsSync(model) && statSync(model).isDirectory();
      const hub = values.hub === undefined ? undefined : normalizeHubMirror(values.hub);
      const remote = !local && (Boolean(values['allow-remote']) || hub !== undefined);
      if (!local && !remote) throw new Error(`--model "${model}" is not a folder; pass --allow-remote to download it from the Hugging Face hub (or --hub URL for a mirror)`);
      if (local && hub !== undefined) throw new Error(`--hub is for hub ids; --model "${model}" is a local folder`);
      if (remote) process.stderr.write(`select: judge model "${model}" from ${hub ?? DEFAULT_HUB_MIRROR}\n`);
      options.model = await loadJudge({
        model: local ? path.basename(path.resolve(model)) : model,
        localModelPath: local ? path.dirname(path.resolve(model)) : undefined,
        allowRemote: remote,
        hubMirror: hub,
        cacheDir: remote ? path.resolve(values['hub-cache'] ?? path.join(values['cache-dir'] ?? DEFAULT_CACHE_DIR, 'hub')) : undefined,
        mode,
        maxNewTokens: intOption('select', values['max-new-tokens'], 'max-new-tokens', 512),
        maxStepChars: intOption('select', values['max-step-chars'], 'max-step-chars', 300),
      });
    } else if (selector === 'highest-loss') {
      if (values['step-loss']) options.stepLoss = stepLossFromJsonl(await readFile(values['step-loss'], 'utf8'), values['step-loss']);
      else if (values.model) {
        // The engine's per-step loss is computed for the whole input at once (batched forward passes).
        const all: Trajectory[] = [];
        for await (const t of readTrajectoryFile(input)) all.push(t);
        options.stepLoss = await modelStepLoss(values.model, all, { seed: intOption('select', values.seed, 'seed', 0) });
      }
      else throw new Error('highest-loss needs the base model per-step loss: pass --step-loss <file.jsonl> or --model <base model>');
    }

    if (dry) {
      if (selector !== 'oracle' && !(selector === 'judge' && options.model?.promptVersion.startsWith('atlas-select'))) {
        throw new Error(`--dry-run shows what an oracle (or generating judge) would be sent; the ${selector} selector sends nothing`);
      }
      const report = await dryRun(readTrajectoryFile(input), options, { keepPrompts: 'first' });
      const first = report.prompts.find((p) => !p.cached) ?? report.prompts[0];
      if (first) {
        console.log(`--- prompt for "${first.id}" (${first.promptTokens} tokens, estimated) ---`);
        for (const m of first.messages) console.log(`[${m.role}]\n${m.content}\n`);
      }
      const { prompts, ...totals } = report;
      console.log(JSON.stringify({ dryRun: true, ...totals }));
      return 0;
    }

    const job: SelectJob = { input: path.resolve(input), inputBytes: fileBytes(input), trajectories: total, selector: selectionName(options), budget, seed };
    const found = await findResume(out!, job, () => readTrajectoryFile(input));
    if (found.note) process.stderr.write(`select: ${found.note}\n`);
    let resume: ResumeState | undefined;
    let source: AsyncIterable<Trajectory> = readTrajectoryFile(input);
    if (found.resumed) {
      resume = found.resumed.state;
      const rest = found.resumed.input;
      source = { [Symbol.asyncIterator]: () => rest };
      const { partial } = resumeFiles(out!);
      process.stderr.write(`select: resuming ${partial}: ${resume.index} of ${total} written, ${resume.finished.size} more finished (journal); asking for the rest\n`);
    }
    const output = new ResumableOutput(out!, job, resume !== undefined);
    const started = Date.now();
    const doneAtStart = (resume?.index ?? 0) + (resume?.finished.size ?? 0);
    let lastPrint = 0;
    const run = selectInOrder(source, options, {
      total,
      resume,
      onFinished: (i, t, selection) => output.finished(i, t, selection),
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastPrint > 1000 || p.done === p.total) {
          lastPrint = now;
          // The rate of this run, once it has run long enough to mean something.
          const rate = p.done > doneAtStart && now - started >= 5000 ? (p.done - doneAtStart) / ((now - started) / 1000) : undefined;
          process.stderr.write(progressLine(p, rate));
        }
      },
    });
    let summary;
    try {
      for (;;) {
        const next = await run.next();
        if (next.done) {
          summary = next.value;
          break;
        }
        output.write(next.value);
      }
    } catch (err) {
      output.close();
      throw err;
    }
    output.complete();
    for (const f of summary.failed.slice(0, 20)) process.stderr.write(`select: failed ${f.id}: ${f.reason}\n`);
    if (summary.failed.length > 20) process.stderr.write(`select: ... ${summary.failed.length - 20} more failures in the summary\n`);
    console.log(JSON.stringify({ ...summary, out }));
    return summary.labelled === 0 && summary.total > 0 ? 1 : 0;
  },
};
