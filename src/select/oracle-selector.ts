// The remote oracle as a selector: any OpenAI-compatible endpoint (src/select/oracle.ts) asked
// with the selector prompt (src/select/selector-prompt.ts), its reply validated and once repaired
// (src/select/ask.ts). Its selections are named "oracle:<model>".
import type { Trajectory } from '../data/trajectory.ts';
import type { RunControl } from './control.ts';
import { OracleClient, type OracleConfig } from './oracle.ts';
import { askForSelection } from './ask.ts';
import { PROMPT_VERSION } from './selector-prompt.ts';
import { defineSelector, type ModelSelector } from './selector.ts';

export class OracleSelector implements ModelSelector {
  readonly client: OracleClient;
  readonly name: string;
  readonly promptVersion = PROMPT_VERSION;
  constructor(readonly config: OracleConfig) {
    this.client = new OracleClient(config);
    this.name = `oracle:${config.model}`;
  }
  get model() {
    return this.config.model;
  }
  get stats() {
    return this.client.stats;
  }
  select(t: Trajectory, budget: number, control: RunControl) {
    return askForSelection((messages) => this.client.complete(messages, control), t, budget);
  }
}

export const oracle = defineSelector({
  kind: 'model',
  name: 'oracle',
  label: 'Oracle LLM — any OpenAI-compatible endpoint (the paper used GPT-4o)',
  origin: 'the oracle',
  needsNetwork: true,
  rebuiltFromSeed: false,
  criticalArm: true,
  select({ oracle: config }) {
    if (!config) throw new Error('the oracle selector needs a base URL and a model (options.oracle)');
    return new OracleSelector(config);
  },
});
