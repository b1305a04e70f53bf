// What every trainer recipe (src/data/recipes/<trainer>.ts) gets and gives.

/** The settings a recipe is written for (after validation: index.ts recipeSettings). */
export interface RecipeSettings {
  /** The trainer's base model: a Hugging Face hub id or a folder path (never "hf:" / "preset:"). */
  model: string;
  /** True when `model` is the placeholder (no --model given): the files say to replace it. */
  placeholderModel: boolean;
  /** Tokens per training sequence. */
  seqLen: number;
  /** LoRA rank, or undefined for full fine-tuning. */
  loraRank?: number;
  /** GPUs of the launch line (one node). */
  gpus: number;
}

export interface RecipeRequest extends RecipeSettings {
  /** The exported data file's name (the basename of --out): configs refer to it relative to the
   *  folder that holds it, where every command is run. */
  dataFile: string;
  /** LLaMA-Factory's dataset name (its dataset_info.json entry). */
  datasetName: string;
}

export interface Recipe {
  /** Side files by name: "<suffix>" is written as <out stem>.<suffix>, a name in BESIDE_OUT as is,
   *  next to --out (src/cli/commands/export.ts sidePath). */
  sideFiles: Record<string, string>;
  /** The commands a user runs on the GPU machine, from the folder holding the exported files. */
  commands: string[];
}

/** `<out stem>.<suffix>`: what the export command names a side file (for the commands). */
export const stemOf = (dataFile: string) => dataFile.replace(/\.jsonl?$/, '');
export const sideName = (dataFile: string, suffix: string) => `${stemOf(dataFile)}.${suffix}`;

/** Defaults of the recipes (documented in docs/data.md, "Recipes"). */
export const RECIPE_DEFAULTS = {
  /** Written when no --model is given; every config says to replace it. */
  model: 'Qwen/Qwen2.5-7B-Instruct',
  seqLen: 4096,
  gpus: 8,
  epochs: 3,
  /** Per-GPU batch and accumulation: 8 sequences per GPU per optimizer step. */
  microBatch: 1,
  gradAccum: 8,
  learningRateFull: 1e-5,
  learningRateLora: 1e-4,
  loraDropout: 0.05,
  warmupRatio: 0.05,
} as const;

export const loraAlpha = (rank: number) => 2 * rank;

/** The comment every config carries about its base model. */
export function modelComment(s: RecipeSettings, how: string): string[] {
  return s.placeholderModel
    ? [`base model: ${s.model} is a PLACEHOLDER (no --model was given). Replace it with the model you fine-tune`, `(${how}), or export again with --model <hf-id|folder>.`]
    : [`base model (--model): ${how}.`];
}

/** CUDA_VISIBLE_DEVICES for the first n GPUs. */
export const visibleDevices = (n: number) => Array.from({ length: n }, (_, i) => i).join(',');
