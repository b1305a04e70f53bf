// Speed of the environments: random-policy steps per second and expert demonstrations per
// second (for `atlas env bench`; never asserted in tests).
import { Rng } from '../data/rng.ts';
import { generateDemo } from './demo.ts';
import type { EnvDefinition } from './types.ts';

export interface BenchResult {
  env: string;
  randomSteps: number;
  stepsPerSecond: number;
  demos: number;
  demosPerSecond: number;
  demoStepsPerSecond: number;
}

export function benchEnv(def: EnvDefinition, seconds = 1): BenchResult {
  const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
  const rng = new Rng(1);
  let steps = 0;
  let t0 = performance.now();
  for (let seed = 0; performance.now() - t0 < seconds * 1000; seed++) {
    const env = def.create();
    env.reset(def.sampleTask(seed, split));
    for (let done = false; !done; steps++) done = env.step(rng.pick(env.validActions())).done;
  }
  const stepSecs = (performance.now() - t0) / 1000;
  let demos = 0, demoSteps = 0;
  t0 = performance.now();
  for (let seed = 0; performance.now() - t0 < seconds * 1000; seed++, demos++) demoSteps += generateDemo(def, seed, split).steps.length;
  const demoSecs = (performance.now() - t0) / 1000;
  return { env: def.name, randomSteps: steps, stepsPerSecond: steps / stepSecs, demos, demosPerSecond: demos / demoSecs, demoStepsPerSecond: demoSteps / demoSecs };
}
