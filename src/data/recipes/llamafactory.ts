// LLaMA-Factory: the `llamafactory` export holds one ShareGPT sample per selected step, each
// ending at that step's agent turn, registered in dataset_info.json beside it (merged, never
// overwritten: src/data/datasetInfo.ts). `mask_history: true` — a data argument of the training
// run — makes LLaMA-Factory put loss on the last turn of every sample only, i.e. on exactly the
// selected step; `train_on_prompt: false` keeps the prompt out (LLaMA-Factory refuses both at
// once). Launch: `FORCE_TORCHRUN=1 llamafactory-cli train <yaml>` on the visible GPUs.
import { toYaml, type YamlMap } from './yaml.ts';
import { DEEPSPEED_FILE, deepspeedText } from './deepspeed.ts';
import { loraAlpha, modelComment, RECIPE_DEFAULTS as D, sideName, stemOf, visibleDevices, type Recipe, type RecipeRequest } from './types.ts';

/** The side file name the export has always used for LLaMA-Factory's config. */
export const LLAMAFACTORY_CONFIG = 'train.yaml';

/** LLaMA-Factory's chat template name for the placeholder model (other models: parsed from the
 *  tokenizer's own chat template when `template` is absent). */
const PLACEHOLDER_TEMPLATE = 'qwen';

export function llamaFactoryRecipe(r: RecipeRequest): Recipe {
  const lora = r.loraRank !== undefined;
  const file = sideName(r.dataFile, LLAMAFACTORY_CONFIG);
  const command = `CUDA_VISIBLE_DEVICES=${visibleDevices(r.gpus)} FORCE_TORCHRUN=1 llamafactory-cli train ${file}`;
  const config: YamlMap = {
    model_name_or_path: r.model,
    trust_remote_code: true,
    stage: 'sft',
    do_train: true,
    finetuning_type: lora ? 'lora' : 'full',
    ...(lora ? { lora_rank: r.loraRank!, lora_alpha: loraAlpha(r.loraRank!), lora_dropout: D.loraDropout, lora_target: 'all' } : { deepspeed: DEEPSPEED_FILE }),
    dataset_dir: '.',
    dataset: r.datasetName,
    ...(r.placeholderModel && { template: PLACEHOLDER_TEMPLATE }),
    cutoff_len: r.seqLen,
    mask_history: true,
    train_on_prompt: false,
    overwrite_cache: true,
    preprocessing_num_workers: 16,
    output_dir: `saves/${stemOf(r.dataFile)}-llamafactory`,
    logging_steps: 10,
    save_strategy: 'epoch',
    plot_loss: true,
    overwrite_output_dir: true,
    report_to: 'none',
    per_device_train_batch_size: D.microBatch,
    gradient_accumulation_steps: D.gradAccum,
    learning_rate: lora ? D.learningRateLora : D.learningRateFull,
    num_train_epochs: D.epochs,
    lr_scheduler_type: 'cosine',
    warmup_ratio: D.warmupRatio,
    bf16: true,
    gradient_checkpointing: true,
    ddp_timeout: 180000000,
  };
  const yaml = toYaml(config, {
    header: [
      `LLaMA-Factory config written by "atlas export --format llamafactory" for ${r.dataFile}`,
      `(dataset "${r.datasetName}" in dataset_info.json beside it). Train only the last assistant turn of`,
      'each sample: one sample per selected step, so exactly the selected steps carry loss.',
      `Run from the folder holding ${r.dataFile}, dataset_info.json and this file:`,
      `  ${command}`,
    ],
    comments: {
      model_name_or_path: modelComment(r, 'a Hugging Face id or a local folder'),
      ...(lora ? { finetuning_type: `LoRA rank ${r.loraRank} (--lora); export without --lora for full fine-tuning` } : { finetuning_type: `full fine-tuning (no --lora), sharded over the GPUs with DeepSpeed ZeRO-3 (${DEEPSPEED_FILE})` }),
      dataset_dir: 'the folder holding dataset_info.json (this one: run from here)',
      ...(r.placeholderModel
        ? { template: "the placeholder model's chat template; for another model use its LLaMA-Factory template name, or remove the key to parse the tokenizer's own chat template" }
        : { cutoff_len: "no template key: LLaMA-Factory parses the tokenizer's own chat template (set template: <name> to choose one)" }),
      mask_history: 'the ATLaS mask: loss on the last turn of each sample only (the selected step); needs train_on_prompt: false',
    },
  });
  return { sideFiles: { [LLAMAFACTORY_CONFIG]: yaml, ...(lora ? {} : { [DEEPSPEED_FILE]: deepspeedText() }) }, commands: [command] };
}
