// The playground's whole configuration and its URL form. A link reproduces an experiment:
// the hash holds the preset, arms, model, data, selector (kind, budget, seed; for the oracle
// its base URL and model — NEVER the API key; for the local judge its model and hub mirror)
// and every hyperparameter. Pure: no DOM.
import { ARMS, type Arm } from '../../data/arms.ts';
import type { DataSource, ExperimentConfig, ModelSource } from '../../experiment/protocol.ts';
import { EXPERIMENT_PRESET_NAMES, experimentPreset, type ExperimentPresetName } from '../../experiment/presets.ts';
import { normalizeHubMirror } from '../../select/judge.ts';
import { getSelector, isSelectorName, SELECTORS, SELECTOR_NAMES, type SelectorName } from '../../select/registry.ts';
import { clampToRange, getSetting, inRange, LORA_TARGETS_SETTING, loraTargetsValue, readLoraTargets, setSettingValue, SETTINGS, settingValue, type SettingSpec } from '../../experiment/settings-spec.ts';
import { PRESETS } from '../../../models/presets.ts';

export type PresetName = ExperimentPresetName;

/** Training seeds per arm, the same range in a link (`seeds=`, clamped and said so), the Train
 *  step's field and `atlas experiment --seeds` (the settings table's): each seed trains every arm once more. */
export const LINK_SEEDS = { min: getSetting('seeds').range.min, max: getSetting('seeds').range.max! } as const;
export const PRESET_NAMES: readonly PresetName[] = EXPERIMENT_PRESET_NAMES;

export interface SelectorSettings {
  /** The selector the Select step runs (src/select/registry.ts). */
  kind: SelectorName;
  /** OpenAI-compatible endpoint (oracle). */
  baseUrl: string;
  /** Model name at the endpoint (oracle) or a hub id / local folder name (judge). */
  model: string;
  concurrency: number;
  /** Local judge: where hub ids download from (absent = the Hugging Face hub, DEFAULT_HUB_MIRROR in src/select/judge.ts). */
  hubMirror?: string;
}

export interface PlaygroundConfig {
  preset: PresetName;
  selector: SelectorSettings;
  experiment: ExperimentConfig;
}

/** A preset's experiment (src/experiment/presets.ts, shared with `atlas experiment`) with the Select step's defaults. */
export function presetConfig(name: PresetName, datasetId?: string): PlaygroundConfig {
  const selector: SelectorSettings = { kind: 'heuristic', baseUrl: 'http://localhost:8000/v1', model: 'gpt-4o', concurrency: 4 };
  return { preset: name, selector, experiment: experimentPreset(name, datasetId) };
}

// ---- URL form -------------------------------------------------------------------------
// Short, readable keys so a teacher can edit a link by hand; the numeric settings' keys and
// checks come from src/experiment/settings-spec.ts.

function modelToText(m: ModelSource): string {
  switch (m.kind) {
    case 'preset':
      return `preset:${m.name}`;
    case 'url':
      return `url:${m.url}`;
    case 'stored':
      return `stored:${m.key}`;
  }
}

function dataToText(d: DataSource): string {
  if (d.kind === 'dataset') return `dataset:${d.datasetId}`;
  return `builtin:${d.envs.join('+')}:${d.trainEpisodes}/${d.heldOutEpisodes}:s${d.seed}:m${d.mistakeRate}`;
}

export function configToHash(c: PlaygroundConfig): string {
  const e = c.experiment;
  const p = new URLSearchParams();
  p.set('preset', c.preset);
  p.set('name', e.name);
  p.set('arms', e.arms.join(','));
  p.set('model', modelToText(e.model));
  p.set('data', dataToText(e.data));
  p.set('selector', c.selector.kind);
  const def = getSelector(c.selector.kind);
  if (def.kind === 'model') {
    // Which model answers, where it lives, and how many requests go at once.
    if (def.needsNetwork) p.set('endpoint', c.selector.baseUrl);
    p.set('selectorModel', c.selector.model);
    p.set('concurrency', String(c.selector.concurrency));
    if (def.needsModel === 'judge' && c.selector.hubMirror) p.set('hub', c.selector.hubMirror);
  }
  p.set('labels', e.selector);
  for (const s of SETTINGS) {
    const v = settingValue(e, s);
    // An optional setting is written only when set (an emptied number field binds null): a link
    // without it keeps the preset's value. One with a "none" word writes it instead (time=none:
    // exactly `steps`), so a link can undo a preset's value.
    if (v != null) p.set(s.link, String(v));
    else if (s.noneWord) p.set(s.link, s.noneWord);
  }
  // LoRA's targets only when not all seven (absent): links without the key train every projection.
  const targets = e.loraTargets && loraTargetsValue(e.loraTargets);
  if (targets) p.set(LORA_TARGETS_SETTING.link, targets.join(','));
  return '#' + p.toString();
}

/** Every key configFromHash reads (configToHash writes all but the API-key ones). */
export const LINK_KEYS: readonly string[] = [
  'preset', 'name', 'arms', 'model', 'data', 'selector', 'endpoint', 'hub', 'selectorModel', 'concurrency', 'labels',
  ...SETTINGS.map((s) => s.link),
  LORA_TARGETS_SETTING.link,
  // Read only to report that a key in a link is ignored.
  'key', 'apiKey', 'api_key',
];

/**
 * Whether a hash is a link's configuration rather than an in-page anchor: it holds at least
 * one `key=value` pair. `#main` or `#top` (no "=") is an anchor and is left alone; `#steps=7`
 * or `#foo=1` is a link (a link with only unknown keys opens the Quick demo and says so).
 */
export function isConfigHash(hash: string): boolean {
  return hash.replace(/^#/, '').includes('=');
}

export interface ParsedHash {
  config: PlaygroundConfig;
  /** What could not be read; each names the key and the problem. Those keys keep the preset's value. */
  problems: string[];
}

/**
 * Reads a hash made by configToHash (or edited by hand). Null for an empty hash or an in-page
 * anchor (isConfigHash). Keys the link leaves out keep the preset's values (the Quick demo
 * without `preset=`). Unknown keys and bad values are reported, never guessed.
 */
export function configFromHash(hash: string, currentDatasetId?: string): ParsedHash | null {
  if (!isConfigHash(hash)) return null;
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const problems: string[] = [];
  const unknown = [...new Set([...p.keys()].filter((k) => !LINK_KEYS.includes(k)))];
  for (const k of unknown) problems.push(`unknown key "${k.slice(0, 40)}" (ignored; the keys are listed in docs/playground.md)`);
  const presetText = p.get('preset') ?? 'quick-demo';
  const preset = (PRESET_NAMES as readonly string[]).includes(presetText) ? (presetText as PresetName) : 'quick-demo';
  if (preset !== presetText) problems.push(`preset "${presetText}" is not one of ${PRESET_NAMES.join(', ')}`);
  const config = presetConfig(preset, currentDatasetId);
  const e = config.experiment;

  const num = (key: string, check: (n: number) => boolean, what: string): number | undefined => {
    const raw = p.get(key);
    if (raw === null) return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) {
      problems.push(`${key}=${raw.slice(0, 40)} is not ${what}`);
      return undefined;
    }
    return n;
  };
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;

  const name = p.get('name');
  if (name !== null) e.name = name.slice(0, 200);

  const arms = p.get('arms');
  if (arms !== null) {
    const list = arms.split(',').filter(Boolean);
    const bad = list.filter((a) => !(ARMS as readonly string[]).includes(a));
    if (bad.length || list.length === 0) problems.push(`arms=${arms.slice(0, 80)}: ${bad.length ? `unknown arm(s) ${bad.join(', ')}` : 'no arm'} (arms are ${ARMS.join(', ')})`);
    const good = [...new Set(list.filter((a) => (ARMS as readonly string[]).includes(a)))] as Arm[];
    if (good.length) e.arms = good;
  }

  const model = p.get('model');
  if (model !== null) {
    const m = /^(preset|url|stored):(.+)$/.exec(model);
    if (!m) problems.push(`model=${model.slice(0, 80)} should be preset:NAME, url:URL or stored:KEY`);
    else if (m[1] === 'preset') {
      if (m[2] in PRESETS) e.model = { kind: 'preset', name: m[2] };
      else problems.push(`model=${model.slice(0, 80)}: no preset model "${m[2].slice(0, 40)}" (presets are ${Object.keys(PRESETS).join(', ')})`);
    }
    else if (m[1] === 'url') e.model = { kind: 'url', url: m[2] };
    else e.model = { kind: 'stored', key: m[2], label: m[2] };
  }

  const data = p.get('data');
  if (data !== null) {
    // "+" between environments may arrive as a space (a hand-typed link): accept both.
    const b = /^builtin:([\w+ -]+):(\d+)\/(\d+):s(\d+):m([\d.]+)$/.exec(data);
    const d = /^dataset:(.+)$/.exec(data);
    if (b) {
      const mistakeRate = Number(b[5]);
      if (!(mistakeRate >= 0 && mistakeRate <= 1)) problems.push(`data=${data}: the mistake rate must be between 0 and 1`);
      else e.data = { kind: 'builtin', envs: b[1].split(/[+ ]/).filter(Boolean), trainEpisodes: Number(b[2]), heldOutEpisodes: Number(b[3]), seed: Number(b[4]), mistakeRate };
    } else if (d) e.data = { kind: 'dataset', datasetId: d[1] };
    else problems.push(`data=${data.slice(0, 80)} should be builtin:ENV+ENV:TRAIN/HELDOUT:sSEED:mRATE or dataset:ID`);
  }

  const sel = p.get('selector');
  if (sel !== null) {
    if (isSelectorName(sel)) config.selector.kind = sel;
    else problems.push(`selector=${sel.slice(0, 40)} is not one of ${SELECTOR_NAMES.join(', ')}`);
  }
  const endpoint = p.get('endpoint');
  if (endpoint !== null) {
    if (/^https?:\/\//.test(endpoint)) config.selector.baseUrl = endpoint;
    else problems.push(`endpoint=${endpoint.slice(0, 80)} is not an http(s) URL`);
  }
  const hub = p.get('hub');
  if (hub !== null) {
    // A base URL only: credentials, a query or a fragment have no place in a mirror link.
    try {
      normalizeHubMirror(hub);
      config.selector.hubMirror = hub;
    } catch (err) {
      problems.push(`hub=${hub.slice(0, 80)}: ${(err as Error).message.replace(/^hub mirror "[^"]*" /, '')}`);
    }
  }
  const selectorModel = p.get('selectorModel');
  if (selectorModel !== null) config.selector.model = selectorModel.slice(0, 200);
  config.selector.concurrency = num('concurrency', positiveInt, 'a positive whole number') ?? config.selector.concurrency;

  const labels = p.get('labels');
  if (labels !== null) {
    // A selection's name: a rule selector's own name, "<model selector>:<model>", or any stored one (manual, import:loss, …).
    const bare = SELECTORS.find((s) => s.kind === 'model' && s.name === labels);
    if (bare) problems.push(`labels=${labels} names no selection: ${bare.name} selections are named ${bare.name}:MODEL (the model that chose them)`);
    else e.selector = labels.slice(0, 200);
  }
  for (const s of SETTINGS) readSetting(p, s, e, problems);
  const targets = p.get(LORA_TARGETS_SETTING.link);
  if (targets !== null) {
    // Like arms: the known entries are kept and the rest reported; none known keeps the preset's.
    const read = readLoraTargets(targets);
    if (read.problem) problems.push(`${LORA_TARGETS_SETTING.link}=${targets.slice(0, 80)}: ${read.problem}`);
    if (read.targets) {
      const value = loraTargetsValue(read.targets);
      if (value) e.loraTargets = value;
      else delete e.loraTargets;
    }
  }
  const h = e.hyper;
  // Values that are readable alone but impossible together: clamped, and said so.
  if (e.model.kind === 'preset' && e.model.name in PRESETS) {
    const context = PRESETS[e.model.name].config.maxSeqLen;
    if (h.seqLen > context) {
      const from = p.has('seq') ? `seq=${h.seqLen}` : `the preset's seq (${h.seqLen})`;
      problems.push(`${from} is longer than the context of preset model ${e.model.name} (${context} tokens): using ${context}`);
      h.seqLen = context;
    }
  }
  if (h.warmupSteps > h.steps) {
    const from = p.has('warmup') ? `warmup=${h.warmupSteps}` : `the preset's warmup (${h.warmupSteps})`;
    problems.push(`${from} is more than steps=${h.steps}: using ${h.steps}`);
    h.warmupSteps = h.steps;
  }
  if (p.has('key') || p.has('apiKey') || p.has('api_key')) problems.push('an API key in a link is ignored: enter it in the Select step instead');
  return { config, problems };
}

/**
 * One numeric setting from the link into `e` (src/experiment/settings-spec.ts): a value outside the
 * setting's range is reported by key and the preset's value kept — except a clamped setting
 * (seeds), whose whole numbers are moved into range (and said so). A setting with a "none" word
 * is removed by it (time=none).
 */
function readSetting(p: URLSearchParams, s: SettingSpec, e: ExperimentConfig, problems: string[]): void {
  const raw = p.get(s.link);
  if (raw === null) return;
  if (s.noneWord && raw === s.noneWord) return setSettingValue(e, s, undefined);
  const n = Number(raw);
  const readable = raw.trim() !== '' && (s.clamp ? Number.isInteger(n) : inRange(s, n));
  if (!readable) {
    problems.push(`${s.link}=${raw.slice(0, 40)} is not ${s.what}`);
    return;
  }
  const value = s.clamp ? clampToRange(s, n) : n;
  if (value !== n) problems.push(`${s.link}=${raw.slice(0, 40)} is outside ${s.range.min}–${s.range.max}: using ${value}`);
  setSettingValue(e, s, value);
}
