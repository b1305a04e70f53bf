// `atlas experiment` with no options is the playground's Quick demo; each option changes
// only its own field.
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { experimentConfigFromOptions } from '../../../src/cli/commands/experiment.ts';
import { experimentPreset } from '../../../src/experiment/presets.ts';

describe('atlas experiment options', () => {
  it('defaults to the Quick demo preset, field for field', () => {
    expect(experimentConfigFromOptions({})).toEqual({ ...experimentPreset('quick-demo'), name: 'cli' });
  });

  it('each option overrides its field and nothing else', () => {
    const quick = experimentPreset('quick-demo');
    const c = experimentConfigFromOptions({ arms: 'full,random', steps: '40', lr: '1e-3', 'rollout-max-steps': '0', 'turn-tokens': '32', data: 'x.jsonl', model: 'preset:S' });
    expect(c.arms).toEqual(['full', 'random']);
    expect(c.hyper).toEqual({ ...quick.hyper, steps: 40, lr: 1e-3, warmupSteps: Math.min(quick.hyper.warmupSteps, 4) });
    // 0 = the environment's own step limit.
    expect(c.rolloutMaxSteps).toBeUndefined();
    expect(c.maxTurnTokens).toBe(32);
    expect(c.data).toEqual({ kind: 'dataset', datasetId: path.resolve('x.jsonl') });
    expect(c.model).toEqual({ kind: 'preset', name: 'S' });
    expect(c.evalEvery).toBe(quick.evalEvery);
    expect(() => experimentConfigFromOptions({ arms: 'critical,bogus' })).toThrow(/unknown arm "bogus"/);
    expect(() => experimentConfigFromOptions({ steps: '0' })).toThrow(/--steps must be at least 1/);
  });

  it('every preset call returns fresh objects: editing one config changes no other', () => {
    const a = experimentPreset('quick-demo');
    a.hyper.steps = 1;
    a.arms.push('random');
    expect(experimentPreset('quick-demo').hyper.steps).toBe(60);
    expect(experimentPreset('byod').hyper.steps).toBe(60);
    expect(experimentPreset('quick-demo').arms).toEqual(['critical', 'full']);
  });
});
