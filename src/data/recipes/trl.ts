// TRL: trains on the pre-tokenized export (`--format tokenized`, which `--format trl` also
// writes: one line per training window, {"input_ids", "labels", "attention_mask"}, labels = the
// token where it counts and -100 elsewhere, made by the code that builds the engine's batches).
// The labels are the mask, so nothing may rebuild them: the script gives SFTTrainer the lines
// as they are (`dataset_kwargs: {skip_prepare_dataset: true}`: no chat template, no
// tokenization, no truncation) and its own collator, which only pads (labels with -100) —
// TRL's default collator derives labels from input_ids in some versions. The config holds
// SFTConfig's and peft LoraConfig's own keyword arguments. Launch: `accelerate launch`.
import { toYaml, type YamlMap } from './yaml.ts';
import { DEEPSPEED_FILE, deepspeedText } from './deepspeed.ts';
import { loraAlpha, modelComment, RECIPE_DEFAULTS as D, sideName, stemOf, type Recipe, type RecipeRequest } from './types.ts';

export const TRL_CONFIG = 'trl.yaml';
/** The training script (the same text for every export). */
export const TRL_SCRIPT = 'atlas_trl.py';

export const TRL_SCRIPT_TEXT = `"""Fine-tune with TRL's SFTTrainer on an "atlas export --format tokenized|trl" file.

The file's lines are {"input_ids", "labels", "attention_mask"}: labels equal input_ids where
the token counts in the loss (the selected agent turns) and are -100 elsewhere, unshifted (the
model shifts). They are used as given: the dataset is not prepared again (no chat template, no
tokenization, no truncation) and the collator only pads. Settings come from the YAML config
written beside this file:

    model_name_or_path: <the model whose tokenizer made the file>
    train_file: <the tokenized .jsonl>
    sft_config: {...}   # trl.SFTConfig keyword arguments
    lora: {...} | null  # peft.LoraConfig keyword arguments, or null for full fine-tuning

Launch (one node):  accelerate launch --multi_gpu --num_processes <GPUs> atlas_trl.py <config.yaml>
"""
import sys

import torch
import yaml
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

COLUMNS = ["input_ids", "labels", "attention_mask"]


def pad_rows(pad_id):
    """Right-pad a batch: input_ids with pad_id, labels with -100, attention_mask with 0."""

    def collate(rows):
        width = max(len(r["input_ids"]) for r in rows)

        def column(key, fill):
            return torch.tensor([list(r[key]) + [fill] * (width - len(r[key])) for r in rows], dtype=torch.long)

        return {"input_ids": column("input_ids", pad_id), "labels": column("labels", -100), "attention_mask": column("attention_mask", 0)}

    return collate


def main(config_path):
    with open(config_path, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    data = load_dataset("json", data_files=cfg["train_file"], split="train").select_columns(COLUMNS)
    bad = [i for i, r in enumerate(data) if not len(r["input_ids"]) == len(r["labels"]) == len(r["attention_mask"])]
    if bad:
        raise ValueError(f"{cfg['train_file']}: lines {bad[:5]} have columns of different lengths")
    # SFTConfig first: with a DeepSpeed ZeRO-3 config it makes from_pretrained load the model sharded.
    args = SFTConfig(**cfg["sft_config"])
    tokenizer = AutoTokenizer.from_pretrained(cfg["model_name_or_path"])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    model = AutoModelForCausalLM.from_pretrained(cfg["model_name_or_path"], torch_dtype=torch.bfloat16)
    peft_config = None
    if cfg.get("lora"):
        from peft import LoraConfig

        peft_config = LoraConfig(**cfg["lora"])
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data,
        data_collator=pad_rows(pad_id),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train()
    trainer.save_model()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: accelerate launch [--multi_gpu --num_processes N] atlas_trl.py <config.yaml>")
    main(sys.argv[1])
`;

export function trlLaunch(gpus: number, config: string): string {
  return `accelerate launch ${gpus > 1 ? `--multi_gpu --num_processes ${gpus} ` : '--num_processes 1 '}${TRL_SCRIPT} ${config}`;
}

export function trlRecipe(r: RecipeRequest): Recipe {
  const lora = r.loraRank !== undefined;
  const file = sideName(r.dataFile, TRL_CONFIG);
  const launch = trlLaunch(r.gpus, file);
  const config: YamlMap = {
    model_name_or_path: r.model,
    train_file: r.dataFile,
    sft_config: {
      output_dir: `outputs/${stemOf(r.dataFile)}-trl`,
      max_length: r.seqLen,
      dataset_kwargs: { skip_prepare_dataset: true },
      remove_unused_columns: false,
      packing: false,
      per_device_train_batch_size: D.microBatch,
      gradient_accumulation_steps: D.gradAccum,
      num_train_epochs: D.epochs,
      learning_rate: lora ? D.learningRateLora : D.learningRateFull,
      lr_scheduler_type: 'cosine',
      warmup_ratio: D.warmupRatio,
      bf16: true,
      gradient_checkpointing: true,
      logging_steps: 1,
      save_strategy: 'epoch',
      report_to: 'none',
      ...(!lora && { deepspeed: DEEPSPEED_FILE }),
    },
    lora: lora ? { r: r.loraRank!, lora_alpha: loraAlpha(r.loraRank!), lora_dropout: D.loraDropout, target_modules: 'all-linear', task_type: 'CAUSAL_LM' } : null,
  };
  const yaml = toYaml(config, {
    header: [
      `TRL config written by "atlas export --format trl" for ${r.dataFile}, the tokenized export`,
      `(its lines are made by "atlas export --format tokenized"; ${sideName(r.dataFile, 'meta.json')} names the tokenizer and chat layout).`,
      'The ATLaS mask is the labels column: used as given, never rebuilt from a chat template.',
      `Run from the folder holding ${r.dataFile}, ${TRL_SCRIPT} and this file:`,
      `  ${launch}`,
    ],
    comments: {
      model_name_or_path: [
        ...modelComment(r, 'the model whose tokenizer made the lines: the --model of the tokenized export'),
        'the token ids only fit that tokenizer; on the GPU machine, point this at the same model folder.',
      ],
      train_file: 'the tokenized export: {"input_ids", "labels", "attention_mask"} per line',
      'sft_config.max_length': 'the export already holds at most this many tokens a line (--seq-len); nothing is truncated here',
      'sft_config.dataset_kwargs': 'the lines are used as given: no chat template, no tokenization, no truncation',
      ...(lora ? {} : { 'sft_config.deepspeed': `full fine-tuning (no --lora): ZeRO-3 shards weights, gradients and optimizer state (${DEEPSPEED_FILE})` }),
      lora: lora ? `LoRA rank ${r.loraRank} (--lora): peft.LoraConfig arguments` : 'null: full fine-tuning; export with --lora R for LoRA (peft.LoraConfig arguments)',
    },
  });
  return { sideFiles: { [TRL_CONFIG]: yaml, [TRL_SCRIPT]: TRL_SCRIPT_TEXT, ...(lora ? {} : { [DEEPSPEED_FILE]: deepspeedText() }) }, commands: [launch] };
}
