import { describe, expect, it } from 'vitest';
import { plural } from '../../../src/cli/plural.ts';

describe('plural', () => {
  it('is singular for exactly 1, plural otherwise, with an irregular plural when given', () => {
    expect([0, 1, 2].map((n) => plural(n, 'step'))).toEqual(['0 steps', '1 step', '2 steps']);
    expect(plural(1, 'trajectory', 'trajectories')).toBe('1 trajectory');
    expect(plural(18, 'trajectory', 'trajectories')).toBe('18 trajectories');
  });
});
