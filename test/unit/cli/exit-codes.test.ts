// The `atlas` entry point as users run it (a child process): exit codes, usage, and inputs
// refused before any GPU work (no Dawn adapter log lines). Each run takes well under a second.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModelArg, datasetFromText } from '../../../src/cli/commands/experiment.ts';
import { intOption, numberOption } from '../../../src/cli/args.ts';
import { serializeTrajectory } from '../../../src/data/jsonl.ts';
import { TRAJECTORY_VERSION, type Trajectory } from '../../../src/data/trajectory.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'atlas-exit-'));
function atlas(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atlas.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** What Dawn prints when an adapter is opened (Vulkan/SwiftShader start-up). */
const GPU_OPENED = /Vulkan|adapter|XDG_RUNTIME_DIR|Dawn/i;

describe('atlas exit codes', { timeout: 60_000 }, () => {
  it('no command prints the usage on stderr and exits 1; --help prints it on stdout and exits 0', () => {
    const none = atlas();
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^usage: atlas <command> \[options\]/);
    expect(none.stderr).toContain('  import ');
    const help = atlas('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: atlas <command>/);
    expect(atlas('nope').code).toBe(2);
  });

  it('a bad number names the command once', () => {
    const r = atlas('experiment', '--steps', 'abc');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('atlas experiment: --steps must be a number (got "abc")');
  });

  it('experiment refuses an unknown preset before opening the GPU', () => {
    const r = atlas('experiment', '--model', 'preset:nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^atlas experiment: Unknown model preset "nope" \(known: .*tiny/);
    expect(r.stderr).not.toMatch(GPU_OPENED);
  });

  it('experiment --data of a binary file says so once, like atlas import, before opening the GPU', () => {
    const bin = path.join(dir, 'binary.json');
    writeFileSync(bin, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), Buffer.from('\n{"a":1}\n\0\0\n')]));
    const r = atlas('experiment', '--data', bin);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`atlas experiment: --data ${bin}: the file looks binary (NUL bytes): expected trajectories JSONL (convert other formats with "atlas import")`]);
    const imp = atlas('import', bin, '--out', path.join(dir, 'x.jsonl'));
    expect(imp.code).toBe(1);
    expect(imp.stdout).toContain('the file looks binary (NUL bytes)');
  });
});

describe('experiment input checks (pure)', () => {
  const t: Trajectory = { version: TRAJECTORY_VERSION, id: 'a', source: { format: 'react', file: 'x' }, instruction: 'do it', steps: [{ agent: 'go', action: 'go', observation: 'ok' }], selections: [] };
  it('datasetFromText keeps good lines with issues for bad ones, refuses a file with none', () => {
    const r = datasetFromText(`${serializeTrajectory(t)}\nnot json\n`, 'd.jsonl');
    expect(r.trajectories.map((x) => x.id)).toEqual(['a']);
    expect(r.issues).toEqual([{ file: 'd.jsonl', line: 2, reason: expect.stringMatching(/^invalid JSON/) }]);
    expect(() => datasetFromText('{"engines": {"node": ">=20.19"}}\n', 'package.json')).toThrow(/^--data package\.json: no trajectory in the file \(line 1: not a trajectory: /);
    expect(() => datasetFromText('', 'e.jsonl')).toThrow('--data e.jsonl: no trajectory in the file (it is empty)');
    expect(() => datasetFromText('x\u0000y', 'b.bin')).toThrow(/^--data b\.bin: the file looks binary/);
  });
  it('checkModelArg accepts known presets and existing paths only', () => {
    expect(() => checkModelArg('preset:tiny')).not.toThrow();
    expect(() => checkModelArg(dir)).not.toThrow();
    expect(() => checkModelArg('preset:nope')).toThrow(/Unknown model preset "nope"/);
    expect(() => checkModelArg(path.join(dir, 'missing'))).toThrow(/model path .*missing does not exist/);
  });
  it('number options name the option, not the command (main.ts adds "atlas <command>: ")', () => {
    expect(() => numberOption('experiment', 'abc', 'lr', 1)).toThrow(/^--lr must be a number \(got "abc"\)$/);
    expect(() => intOption('experiment', '1.5', 'steps', 1)).toThrow(/^--steps must be an integer \(got "1.5"\)$/);
    expect(intOption('experiment', undefined, 'steps', 7)).toBe(7);
  });
});
