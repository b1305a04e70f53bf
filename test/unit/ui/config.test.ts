// The playground's URL form: every preset survives a round trip, hand-edited links are read
// with their problems reported, and an API key in a link is never taken.
import { describe, it, expect } from 'vitest';
import { configFromHash, configToHash, isConfigHash, LINK_SEEDS, presetConfig, PRESET_NAMES } from '../../../src/ui/state/playground-config.ts';

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
    expect(e.model).toEqual({ kind: 'preset', name: 'base' });
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

  it('ignores an empty hash and in-page anchors (no "=")', () => {
    expect(configFromHash('')).toBeNull();
    expect(configFromHash('#')).toBeNull();
    expect(configFromHash('#main')).toBeNull();
    expect(isConfigHash('#main')).toBe(false);
    expect(isConfigHash('#a=1')).toBe(true);
  });

  it('reads a link without preset= or arms=: the given keys over the Quick demo', () => {
    const parsed = configFromHash('#steps=70');
    expect(parsed?.problems).toEqual([]);
    const expected = presetConfig('quick-demo');
    expected.experiment.hyper.steps = 70;
    expect(parsed?.config).toEqual(expected);
    const two = configFromHash('#steps=2&evalEvery=1')!.config.experiment;
    expect([two.hyper.steps, two.evalEvery, two.hyper.warmupSteps]).toEqual([2, 1, 2]);
    expect(configFromHash('#steps=2&evalEvery=1')?.problems).toEqual(["the preset's warmup (3) is more than steps=2: using 2"]);
  });

  it('reports unknown keys, alone or beside known ones', () => {
    const alone = configFromHash('#a=1&b=2&a=3');
    expect(alone?.config).toEqual(presetConfig('quick-demo'));
    expect(alone?.problems).toEqual([
      'unknown key "a" (ignored; the keys are listed in docs/playground.md)',
      'unknown key "b" (ignored; the keys are listed in docs/playground.md)',
    ]);
    const typo = configFromHash('#step=7&batch=3');
    expect(typo?.config.experiment.hyper.batchSize).toBe(3);
    expect(typo?.config.experiment.hyper.steps).toBe(presetConfig('quick-demo').experiment.hyper.steps);
    expect(typo?.problems).toEqual(['unknown key "step" (ignored; the keys are listed in docs/playground.md)']);
  });

  it('reports an unknown preset model and keeps the preset\'s', () => {
    const parsed = configFromHash('#model=preset:nope');
    expect(parsed?.config.experiment.model).toEqual(presetConfig('quick-demo').experiment.model);
    expect(parsed?.problems).toEqual(['model=preset:nope: no preset model "nope" (presets are test, S, M, default, small, base, tiny)']);
  });

  it('clamps a sequence longer than the preset model\'s context, and warmup beyond steps, saying so', () => {
    const parsed = configFromHash('#model=preset:tiny&seq=99999&steps=10&warmup=1000000000');
    const h = parsed!.config.experiment.hyper;
    expect([h.seqLen, h.steps, h.warmupSteps]).toEqual([512, 10, 10]);
    expect(parsed?.problems).toEqual(['seq=99999 is longer than the context of preset model tiny (512 tokens): using 512', 'warmup=1000000000 is more than steps=10: using 10']);
    // The preset's own sequence length is checked against a smaller model too.
    const small = configFromHash('#model=preset:test');
    expect(small?.config.experiment.hyper.seqLen).toBe(32);
    expect(small?.problems).toEqual(["the preset's seq (512) is longer than the context of preset model test (32 tokens): using 32"]);
    // A URL or stored model's context is unknown here: its sequence length is not judged.
    expect(configFromHash('#model=url:https://x.test/m&seq=99999')?.problems).toEqual([]);
  });

  it('reads and writes the training seeds (seeds=): links without it keep the preset\'s value', () => {
    const c = presetConfig('quick-demo');
    c.experiment.seeds = 3;
    const hash = configToHash(c);
    expect(new URLSearchParams(hash.slice(1)).get('seeds')).toBe('3');
    expect(configFromHash(hash)).toEqual({ config: c, problems: [] });
    // A preset without seeds writes none, and a link without the key keeps the preset's value.
    expect(new URLSearchParams(configToHash(presetConfig('quick-demo')).slice(1)).has('seeds')).toBe(false);
    expect(configFromHash('#steps=70')?.config.experiment.seeds).toBe(presetConfig('quick-demo').experiment.seeds);
    expect(configFromHash('#seeds=10')).toMatchObject({ config: { experiment: { seeds: 10 } }, problems: [] });
  });

  it('clamps seeds outside 1..10 and says so; keeps the preset\'s value for one that is not a whole number', () => {
    expect(LINK_SEEDS).toEqual({ min: 1, max: 10 });
    const high = configFromHash('#seeds=50');
    expect(high?.config.experiment.seeds).toBe(10);
    expect(high?.problems).toEqual(['seeds=50 is outside 1–10: using 10']);
    const low = configFromHash('#seeds=0');
    expect(low?.config.experiment.seeds).toBe(1);
    expect(low?.problems).toEqual(['seeds=0 is outside 1–10: using 1']);
    for (const bad of ['2.5', 'many', '']) {
      const parsed = configFromHash(`#seeds=${bad}`);
      expect(parsed?.config.experiment.seeds).toBe(presetConfig('quick-demo').experiment.seeds);
      expect(parsed?.problems).toEqual([`seeds=${bad} is not a whole number from 1 to 10`]);
    }
  });

  it('reads and writes the wall-clock budget (time=): seconds, or none for exactly `steps`', () => {
    const c = presetConfig('quick-demo');
    c.experiment.timeBudgetSeconds = 90;
    const back = configFromHash(configToHash(c))!;
    expect(back.config.experiment.timeBudgetSeconds).toBe(90);
    expect(back.problems).toEqual([]);
    delete c.experiment.timeBudgetSeconds;
    const hash = configToHash(c);
    expect(new URLSearchParams(hash.slice(1)).get('time')).toBe('none');
    expect(configFromHash(hash)!.config.experiment.timeBudgetSeconds).toBeUndefined();
    const bad = configFromHash('#time=-3')!;
    expect(bad.problems.join(' ')).toMatch(/time=-3/);
  });

  it('reads and writes LoRA targets (loraTargets=): a comma list, absent for all seven; old links keep all seven', () => {
    const three = configFromHash('#lora=8&loraTargets=down,q,v')!;
    expect(three.problems).toEqual([]);
    // the engine's order, whatever the link's
    expect(three.config.experiment.loraTargets).toEqual(['q', 'v', 'down']);
    expect(new URLSearchParams(configToHash(three.config).slice(1)).get('loraTargets')).toBe('q,v,down');
    expect(configFromHash(configToHash(three.config))!.config).toEqual(three.config);
    // a link made before the key existed, and one naming all seven: every projection, nothing written
    for (const hash of ['#lora=8', '#lora=8&loraTargets=q,k,v,o,gate,up,down']) {
      const c = configFromHash(hash)!;
      expect(c.problems, hash).toEqual([]);
      expect('loraTargets' in c.config.experiment, hash).toBe(false);
      expect(configToHash(c.config), hash).not.toContain('loraTargets');
    }
  });

  it('reports unknown LoRA targets by key and keeps the known ones; none known keeps all seven', () => {
    const some = configFromHash('#lora=8&loraTargets=q,qkv,v')!;
    expect(some.config.experiment.loraTargets).toEqual(['q', 'v']);
    expect(some.problems).toEqual(['loraTargets=q,qkv,v: unknown target "qkv" (the targets are q, k, v, o, gate, up, down)']);
    const none = configFromHash('#lora=8&loraTargets=attn,mlp')!;
    expect('loraTargets' in none.config.experiment).toBe(false);
    expect(none.problems).toEqual(['loraTargets=attn,mlp: unknown targets "attn", "mlp" (the targets are q, k, v, o, gate, up, down)']);
    const empty = configFromHash('#lora=8&loraTargets=')!;
    expect(empty.problems).toEqual(['loraTargets=: no target (the targets are q, k, v, o, gate, up, down)']);
  });
});
