// PEFT LoRA adapter folders: adapter_config.json + adapter_model.safetensors, with PEFT's
// keys and tensor names (base_model.model.model.layers.N.<module>.lora_{A,B}.weight), so an
// adapter trained here loads with `PeftModel.from_pretrained(base, folder)` and an adapter
// trained with PEFT loads here to continue. Only what the engine computes is accepted:
// plain LoRA (no DoRA, no rsLoRA scaling, no bias training, no extra saved modules, every
// layer adapted); anything else is refused by its key and value.
import type { LlamaConfig } from '../config.ts';
import { LORA_TARGETS, LORA_TARGET_NAMES, loraShapes, validateLoraSpec, type LoraSpec, type LoraTarget } from '../lora.ts';
import type { NamedTensors } from '../params.ts';
import type { FileSink, FileSource } from './file-source.ts';
import { parseSafetensors, writeSafetensors, type TensorToWrite } from './safetensors.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** PEFT module name (q_proj …) → the engine's target name (q …). */
const TARGET_BY_MODULE = new Map(LORA_TARGET_NAMES.map((t) => [LORA_TARGETS[t].module.split('.').pop()!, t]));

/** adapter_config.json for a spec, in PEFT's keys. */
export function peftAdapterConfig(spec: LoraSpec, baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: spec.rank,
    lora_alpha: spec.alpha,
    lora_dropout: 0,
    target_modules: spec.targets.map((t) => LORA_TARGETS[t].module.split('.').pop()!),
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    inference_mode: true,
  };
}

/** The spec an adapter_config.json describes; refuses what the engine does not compute. */
export function loraSpecFromPeft(json: Record<string, unknown>, label: string): LoraSpec {
  const refuse = (what: string): never => {
    throw new Error(`${label}: unsupported LoRA adapter: ${what}`);
  };
  if (json.peft_type !== 'LORA') refuse(`peft_type ${JSON.stringify(json.peft_type)} (only "LORA")`);
  for (const key of ['use_dora', 'use_rslora', 'fan_in_fan_out'] as const) if (json[key] === true) refuse(`${key} true`);
  if (json.bias !== undefined && json.bias !== 'none') refuse(`bias ${JSON.stringify(json.bias)} (only "none")`);
  for (const key of ['modules_to_save', 'layers_to_transform', 'rank_pattern', 'alpha_pattern'] as const) {
    const v = json[key];
    if (v != null && !(typeof v === 'object' && Object.keys(v).length === 0)) refuse(`${key} ${JSON.stringify(v)}`);
  }
  const rank = json.r;
  const alpha = json.lora_alpha;
  if (typeof rank !== 'number') refuse(`r ${JSON.stringify(rank)} (expected a number)`);
  if (typeof alpha !== 'number') refuse(`lora_alpha ${JSON.stringify(alpha)} (expected a number)`);
  const modules = json.target_modules;
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string')) refuse(`target_modules ${JSON.stringify(modules)} (expected a list of module names such as "q_proj")`);
  const targets: LoraTarget[] = [];
  for (const m of modules as string[]) {
    const t = TARGET_BY_MODULE.get(m);
    if (!t) refuse(`target module "${m}" (the engine adapts ${[...TARGET_BY_MODULE.keys()].join(', ')})`);
    else targets.push(t);
  }
  const spec = { rank: rank as number, alpha: alpha as number, targets: LORA_TARGET_NAMES.filter((t) => targets.includes(t)) };
  try {
    validateLoraSpec(spec);
  } catch (err) {
    refuse(err instanceof Error ? err.message : String(err));
  }
  return spec;
}

/** Writes adapter_config.json + adapter_model.safetensors (F32, PEFT's names and shapes). */
export async function savePeftAdapter(sink: FileSink, c: LlamaConfig, spec: LoraSpec, tensors: NamedTensors, baseModel: string): Promise<void> {
  const ordered = new Map<string, TensorToWrite>();
  for (const { name, shape } of loraShapes(c, spec)) {
    const data = tensors.get(name);
    if (!data) throw new Error(`savePeftAdapter: missing tensor ${name}`);
    ordered.set(name, { shape, data });
  }
  await sink.write(ADAPTER_CONFIG, JSON.stringify(peftAdapterConfig(spec, baseModel), null, 2) + '\n');
  await sink.write(ADAPTER_WEIGHTS, writeSafetensors(ordered, { format: 'pt' }));
}

/** Loads a PEFT LoRA folder for a model of config `c`: every tensor named and shaped as the
 *  spec implies (f16/bf16 files are widened to f32), nothing missing, nothing extra. */
export async function loadPeftAdapter(src: FileSource, c: LlamaConfig): Promise<{ spec: LoraSpec; tensors: NamedTensors }> {
  if (!(await src.exists(ADAPTER_CONFIG))) throw new Error(`${src.label}: no ${ADAPTER_CONFIG} (not a PEFT adapter folder?)`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(await src.read(ADAPTER_CONFIG)));
  } catch (err) {
    throw new Error(`${src.label}/${ADAPTER_CONFIG}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const spec = loraSpecFromPeft(json, `${src.label}/${ADAPTER_CONFIG}`);
  if (!(await src.exists(ADAPTER_WEIGHTS))) throw new Error(`${src.label}: no ${ADAPTER_WEIGHTS}`);
  const file = parseSafetensors(await src.read(ADAPTER_WEIGHTS), `${src.label}/${ADAPTER_WEIGHTS}`);
  const found = new Map(file.entries.map((e) => [e.name, e]));
  const tensors: NamedTensors = new Map();
  const missing: string[] = [];
  for (const { name, shape } of loraShapes(c, spec)) {
    const e = found.get(name);
    if (!e) {
      missing.push(name);
      continue;
    }
    if (e.shape.join(',') !== shape.join(',')) throw new Error(`${src.label}/${ADAPTER_WEIGHTS}: ${name} has shape [${e.shape.join(', ')}]; the model and adapter_config.json imply [${shape.join(', ')}]`);
    tensors.set(name, file.read(name));
    found.delete(name);
  }
  if (missing.length) throw new Error(`${src.label}/${ADAPTER_WEIGHTS}: missing tensors ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`);
  if (found.size) throw new Error(`${src.label}/${ADAPTER_WEIGHTS}: unexpected tensors for this model and adapter_config.json: ${[...found.keys()].slice(0, 4).join(', ')}`);
  return { spec, tensors };
}
