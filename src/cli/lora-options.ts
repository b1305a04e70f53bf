// The LoRA options `atlas train`, `atlas grad` and `atlas experiment` share:
//   --lora R [--lora-alpha A] [--lora-targets q,k,v,o,gate,up,down]   a fresh adapter
//   --adapter <peft-folder>                                             an adapter to continue
// and where a trained adapter is written (a PEFT folder beside the merged model).
import { DEFAULT_LORA, LORA_TARGET_NAMES, parseLoraTargets, validateLoraSpec, type LoraSpec } from '../engine/lora.ts';
import { stringOptions } from './args.ts';

export const LORA_OPTIONS = stringOptions('lora', 'lora-alpha', 'lora-targets', 'adapter');

export const LORA_USAGE = `  [--lora R [--lora-alpha 2R] [--lora-targets ${LORA_TARGET_NAMES.join(',')}]]   LoRA: the base frozen, rank-R adapters trained
  [--adapter <peft-folder>]   continue a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors)`;

type Values = { [flag: string]: string | boolean | undefined };

/** A fresh adapter's spec from --lora/--lora-alpha/--lora-targets; undefined without --lora.
 *  --lora-alpha and --lora-targets without --lora are refused (they would do nothing). */
export function loraSpecFromOptions(cmd: string, v: Values): LoraSpec | undefined {
  const rank = v.lora as string | undefined;
  const alpha = v['lora-alpha'] as string | undefined;
  const targets = v['lora-targets'] as string | undefined;
  if (rank === undefined) {
    const stray = [alpha !== undefined && '--lora-alpha', targets !== undefined && '--lora-targets'].filter(Boolean);
    if (stray.length) throw new Error(`atlas ${cmd}: ${stray.join(' and ')} need --lora R`);
    return undefined;
  }
  if (v.adapter !== undefined) throw new Error(`atlas ${cmd}: --lora starts a fresh adapter and --adapter continues one; give one of them`);
  const r = Number(rank);
  const a = alpha === undefined ? 2 * r : Number(alpha);
  if (alpha !== undefined && !Number.isFinite(a)) throw new Error(`atlas ${cmd}: --lora-alpha must be a number (got "${alpha}")`);
  const spec: LoraSpec = { rank: r, alpha: a, targets: targets === undefined ? [...DEFAULT_LORA.targets] : parseLoraTargets(targets) };
  try {
    validateLoraSpec(spec);
  } catch (err) {
    throw new Error(`atlas ${cmd}: --lora ${rank}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return spec;
}

/** "rank 16, alpha 32 on q,k,v,o" */
export function describeLora(s: LoraSpec): string {
  return `rank ${s.rank}, alpha ${s.alpha} on ${s.targets.join(',')}`;
}
