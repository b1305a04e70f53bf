// Recipes that run: with `atlas export --format axolotl|llamafactory|torchtune|trl`, besides the
// data, a complete config for that trainer in its own documented keys (base model, dataset path
// and type, the key that carries the ATLaS mask, sequence length, LoRA or full fine-tuning) and
// the multi-GPU launch line as the trainer documents it. One module per trainer, this registry,
// and a small YAML writer (yaml.ts). The commands and defaults are in docs/data.md, "Recipes".
import { axolotlRecipe } from './axolotl.ts';
import { DEEPSPEED_FILE } from './deepspeed.ts';
import { llamaFactoryRecipe } from './llamafactory.ts';
import { TORCHTUNE_MODULE, torchtuneRecipe } from './torchtune.ts';
import { TRL_SCRIPT, trlRecipe } from './trl.ts';
import { RECIPE_DEFAULTS, type Recipe, type RecipeRequest, type RecipeSettings } from './types.ts';

export { RECIPE_DEFAULTS, type Recipe, type RecipeRequest, type RecipeSettings } from './types.ts';

export const RECIPES = {
  axolotl: axolotlRecipe,
  llamafactory: llamaFactoryRecipe,
  torchtune: torchtuneRecipe,
  trl: trlRecipe,
} as const satisfies Record<string, (r: RecipeRequest) => Recipe>;
export type RecipeFormat = keyof typeof RECIPES;
export const RECIPE_FORMATS = Object.keys(RECIPES) as RecipeFormat[];
export const hasRecipe = (format: string): format is RecipeFormat => Object.hasOwn(RECIPES, format);

/** Side files written under their own name next to --out (not as `<out stem>.<name>`): files a
 *  folder shares (LLaMA-Factory's registry) and files the configs import or name by a fixed name.
 *  Their content is the same for every export, so exporting again never changes them. */
export const BESIDE_OUT: ReadonlySet<string> = new Set(['dataset_info.json', TORCHTUNE_MODULE, TRL_SCRIPT, DEEPSPEED_FILE]);

/** The recipe options as the command line gives them (strings, unparsed). */
export interface RecipeArgs {
  model?: string;
  seqLen?: string;
  lora?: string;
  gpus?: string;
}

/** The trainer's base model from --model: a hub id (with or without "hf:") or a folder. This
 *  project's own models (preset:NAME, llama2.c .bin files) are not something a trainer loads. */
export function trainerModel(arg: string | undefined): { model: string; placeholderModel: boolean } {
  if (arg === undefined) return { model: RECIPE_DEFAULTS.model, placeholderModel: true };
  if (arg.startsWith('preset:')) throw new Error(`--model ${arg}: the trainer loads a Hugging Face model (a hub id or a folder); ${arg} is this project's engine model. Pass the hub id or folder of the model to fine-tune`);
  if (/\.bin$/i.test(arg)) throw new Error(`--model ${arg}: the trainer loads a Hugging Face model (a hub id or a folder), not a llama2.c .bin (convert it with "atlas convert --from ${arg} --out <folder>")`);
  const model = arg.startsWith('hf:') ? arg.slice('hf:'.length) : arg;
  if (model === '') throw new Error('--model must name a model');
  return { model, placeholderModel: false };
}

function positiveInt(flag: string, value: string | undefined, fallback: number | undefined, min = 1): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min} (got "${value}")`);
  return n;
}

/** The recipe settings of a format from its options (undefined: the format has no recipe);
 *  throws when a recipe-only option is given to a format without a recipe. */
export function recipeSettings(format: string, args: RecipeArgs): RecipeSettings | undefined {
  if (!hasRecipe(format)) {
    const given = (['lora', 'gpus'] as const).filter((k) => args[k] !== undefined);
    if (given.length) throw new Error(`--${given.join(', --')} ${given.length > 1 ? 'apply' : 'applies'} to the formats with a trainer recipe only (${RECIPE_FORMATS.join(', ')})`);
    return undefined;
  }
  const seqLen = positiveInt('seq-len', args.seqLen, RECIPE_DEFAULTS.seqLen, 8)!;
  return {
    ...trainerModel(args.model),
    seqLen,
    loraRank: positiveInt('lora', args.lora, undefined),
    gpus: positiveInt('gpus', args.gpus, RECIPE_DEFAULTS.gpus)!,
  };
}

/** The recipe of `format` for an export written to a file named `dataFile` (undefined: no recipe).
 *  `seqLen`: the length an export fixed (the tokenized lines of --format trl), which wins. */
export function exportRecipe(format: string, settings: RecipeSettings | undefined, ctx: { dataFile: string; datasetName?: string; seqLen?: number }): Recipe | undefined {
  if (!hasRecipe(format) || !settings) return undefined;
  return RECIPES[format]({ ...settings, ...(ctx.seqLen !== undefined && { seqLen: ctx.seqLen }), dataFile: ctx.dataFile, datasetName: ctx.datasetName ?? 'atlas_critical' });
}
