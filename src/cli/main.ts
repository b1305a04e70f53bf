// The `atlas` command line: dispatches to one module per command, loaded lazily so that
// `atlas env list` does not pay for WebGPU start-up.
import { adviseGpuError, currentGpuSituation, type GpuSituation } from './gpu-advice.ts';
import type { HubArgsOptions } from './hub-model.ts';

export interface Command {
  /** One-line summary shown by `atlas help`. */
  summary: string;
  /** Runs the command; returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<{ command: Command }>> = {
  generate: () => import('./commands/generate.ts'),
  grad: () => import('./commands/grad.ts'),
  train: () => import('./commands/train.ts'),
  pretrain: () => import('./commands/pretrain.ts'),
  bench: () => import('./commands/bench.ts'),
  convert: () => import('./commands/convert.ts'),
  import: () => import('./commands/import.ts'),
  export: () => import('./commands/export.ts'),
  env: () => import('./commands/env.ts'),
  eval: () => import('./commands/eval.ts'),
  select: () => import('./commands/select.ts'),
  score: () => import('./commands/score.ts'),
  experiment: () => import('./commands/experiment.ts'),
};

export async function main(argv: string[], opts: { gpuSituation?: () => GpuSituation; hub?: HubArgsOptions } = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    // Asked for: usage on stdout, exit 0. No command at all is a usage error: stderr, exit 1.
    const print = name ? console.log : console.error;
    print('usage: atlas <command> [options]\n\ncommands:');
    for (const [key, load] of Object.entries(commands)) {
      const summary = await load().then((m) => m.command.summary, () => '(not available)');
      print(`  ${key.padEnd(10)} ${summary}`);
    }
    print(`\n${(await import('./hub-model.ts')).HUB_MODEL_HELP}`);
    return name ? 0 : 1;
  }
  const load = commands[name];
  if (!load) {
    console.error(`atlas: unknown command "${name}". Run "atlas help" for the list.`);
    return 2;
  }
  const { command } = await load();
  try {
    // --model hf:ORG/NAME becomes the downloaded folder before the command reads its options.
    const hub = rest.some((a) => a.includes('hf:') || a.startsWith('--hub-mirror'));
    return await command.run(hub ? await (await import('./hub-model.ts')).resolveHubModelArgs(name, rest, opts.hub) : rest);
  } catch (err) {
    // A missing WebGPU adapter is explained by what this machine lacks (gpu-advice.ts).
    const message = adviseGpuError(err instanceof Error ? err.message : String(err), opts.gpuSituation ?? currentGpuSituation);
    console.error(`atlas ${name}: ${printable(message)}`);
    if (process.env.ATLAS_DEBUG) console.error(err);
    return 1;
  }
}

/** Error text can quote the input (a JSON parser's snippet of a binary file): show control
 *  characters as escapes so the terminal prints the message, not the bytes. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
