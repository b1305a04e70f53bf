// Axolotl: the `axolotl` export ({"id", "messages":[{role, content, train}]}) with the
// chat_template dataset type. The per-message flag carries the mask: `message_field_training:
// train` makes Axolotl train exactly the messages whose `train` is true, and `roles_to_train: []`
// stops it from also training every assistant turn by role; `train_on_eos: turn` trains the
// end-of-turn token of each trained turn (the engine's masks weight it too, docs/data.md).
// Launch: `axolotl train <config> --launcher torchrun -- --nproc_per_node=N` (Axolotl's CLI).
import { toYaml, type YamlMap } from './yaml.ts';
import { DEEPSPEED_FILE, deepspeedText } from './deepspeed.ts';
import { loraAlpha, modelComment, RECIPE_DEFAULTS as D, sideName, stemOf, type Recipe, type RecipeRequest } from './types.ts';

export const AXOLOTL_CONFIG = 'axolotl.yaml';

export function axolotlRecipe(r: RecipeRequest): Recipe {
  const lora = r.loraRank !== undefined;
  const config: YamlMap = {
    base_model: r.model,
    chat_template: 'tokenizer_default',
    datasets: [
      {
        path: r.dataFile,
        ds_type: 'json',
        type: 'chat_template',
        field_messages: 'messages',
        roles_to_train: [],
        train_on_eos: 'turn',
        message_field_training: 'train',
      },
    ],
    dataset_prepared_path: `prepared/${stemOf(r.dataFile)}`,
    val_set_size: 0,
    output_dir: `outputs/${stemOf(r.dataFile)}-axolotl`,
    sequence_len: r.seqLen,
    sample_packing: false,
    ...(lora ? { adapter: 'lora', lora_r: r.loraRank!, lora_alpha: loraAlpha(r.loraRank!), lora_dropout: D.loraDropout, lora_target_linear: true } : { deepspeed: DEEPSPEED_FILE }),
    micro_batch_size: D.microBatch,
    gradient_accumulation_steps: D.gradAccum,
    num_epochs: D.epochs,
    optimizer: 'adamw_torch_fused',
    lr_scheduler: 'cosine',
    learning_rate: lora ? D.learningRateLora : D.learningRateFull,
    warmup_ratio: D.warmupRatio,
    bf16: 'auto',
    gradient_checkpointing: true,
    logging_steps: 1,
    saves_per_epoch: 1,
  };
  const file = sideName(r.dataFile, AXOLOTL_CONFIG);
  const yaml = toYaml(config, {
    header: [
      `Axolotl config written by "atlas export --format axolotl" for ${r.dataFile}.`,
      'The ATLaS mask is the per-message "train" flag: true on exactly the selected agent turns.',
      `Run from the folder holding ${r.dataFile} and this file:`,
      `  axolotl train ${file} --launcher torchrun -- --nproc_per_node=${r.gpus}`,
    ],
    comments: {
      base_model: modelComment(r, 'a Hugging Face id or a local folder'),
      chat_template: "the model's own chat template (tokenizer_config.json); name one (e.g. chatml) if the base model has none",
      datasets: [
        'roles_to_train: [] + message_field_training: train — only messages with "train": true carry loss',
        '(never every assistant turn by role); train_on_eos: turn — also the end-of-turn token of each trained turn',
      ],
      sequence_len: 'longer conversations are truncated by Axolotl: pick a length that holds your trajectories (--seq-len)',
      ...(lora ? { adapter: `LoRA rank ${r.loraRank} (--lora); export without --lora for full fine-tuning` } : { deepspeed: `full fine-tuning (no --lora): ZeRO-3 shards weights, gradients and optimizer state over the GPUs (${DEEPSPEED_FILE})` }),
    },
  });
  return {
    sideFiles: { [AXOLOTL_CONFIG]: yaml, ...(lora ? {} : { [DEEPSPEED_FILE]: deepspeedText() }) },
    commands: [`axolotl train ${file} --launcher torchrun -- --nproc_per_node=${r.gpus}`],
  };
}
