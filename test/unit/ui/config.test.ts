// The playground's URL form: every preset survives a round trip, hand-edited links are read
// with their problems reported, and an API key in a link is never taken.
import { describe, it, expect } from 'vitest';
import { configFromHash, configToHash, presetConfig, PRESET_NAMES } from '../../../src/ui/state/config.ts';

describe('configuration in the URL hash', () => {
  it.each(PRESET_NAMES)('round-trips the %s preset exactly', (name) => {
    const c = presetConfig(name, 'import:x.jsonl:2026');
    c.experiment.nextActionQueries = 4;
    c.experiment.maxTurnTokens = 16;
    const parsed = configFromHash(configToHash(c), 'import:x.jsonl:2026');
    expect(parsed?.problems).toEqual([]);
    expect(parsed?.config).toEqual(c);
  });

  it('round-trips oracle settings but never an API key', () => {
    const c = presetConfig('quick-demo');
    c.selector = { kind: 'oracle', baseUrl: 'https://example.test/v1', model: 'gpt-4o', concurrency: 8 };
    const hash = configToHash(c);
    expect(hash).toContain('endpoint=https%3A%2F%2Fexample.test%2Fv1');
    expect(configFromHash(hash)?.config.selector).toEqual(c.selector);
    const withKey = configFromHash(hash + '&key=sk-123');
    expect(JSON.stringify(withKey?.config)).not.toContain('sk-123');
    expect(withKey?.problems).toEqual(['an API key in a link is ignored: enter it in the Select step instead']);
  });

  it('reads a hand-typed link ("+" as a space) and reports each bad value by key', () => {
    const parsed = configFromHash('#preset=paper-arms&arms=critical,bogus&data=builtin:household grid:3/2:s5:m0.2&steps=-3&lr=2&budget=0.5&model=weird');
    expect(parsed).not.toBeNull();
    const e = parsed!.config.experiment;
    expect(e.arms).toEqual(['critical']);
    expect(e.data).toEqual({ kind: 'builtin', envs: ['household', 'grid'], trainEpisodes: 3, heldOutEpisodes: 2, seed: 5, mistakeRate: 0.2 });
    expect(e.budget).toBe(0.5);
    // Bad values keep the preset's.
    expect(e.hyper.steps).toBe(presetConfig('paper-arms').experiment.hyper.steps);
    expect(e.hyper.lr).toBe(presetConfig('paper-arms').experiment.hyper.lr);
    expect(e.model).toEqual({ kind: 'preset', name: 'default' });
    expect(parsed!.problems).toEqual([
      'arms=critical,bogus: unknown arm(s) bogus (arms are full, critical, random, rejected, highest-loss)',
      'model=weird should be preset:NAME, url:URL or stored:KEY',
      'steps=-3 is not a positive whole number',
      'lr=2 is not a learning rate in (0, 1)',
    ]);
  });

  it('leaves out optional numbers an emptied field set to null (the runner default applies)', () => {
    const c = presetConfig('quick-demo');
    Object.assign(c.experiment, { rolloutMaxSteps: null, nextActionQueries: null, maxTurnTokens: null });
    const p = new URLSearchParams(configToHash(c).slice(1));
    expect([p.has('rolloutMaxSteps'), p.has('nextAction'), p.has('turnTokens')]).toEqual([false, false, false]);
    expect(configFromHash(configToHash(c))?.problems).toEqual([]);
  });

  it('ignores hashes that hold no configuration', () => {
    expect(configFromHash('')).toBeNull();
    expect(configFromHash('#main')).toBeNull();
  });
});
