// torchtune: the `torchtune` export ({"id", "messages":[{role, content, masked}]}) is read by a
// small dataset builder written beside it (atlas_torchtune.py): each message becomes a
// torchtune Message with its own `masked` flag, so exactly the selected agent turns carry loss
// (torchtune's built-in chat_dataset masks by role and cannot). The config is a
// full_finetune_distributed or lora_finetune_distributed config in torchtune's own keys
// (model / tokenizer / checkpointer builders of the base model's family); launch:
// `tune run --nproc_per_node N <recipe> --config <yaml>`, with the folder on PYTHONPATH so the
// builder imports. torchtune builds models from its own builders, so the recipe knows a few
// Hugging Face checkpoints by name (TORCHTUNE_MODELS) and refuses others.
import { toYaml, type YamlMap } from './yaml.ts';
import { loraAlpha, modelComment, RECIPE_DEFAULTS as D, sideName, stemOf, type Recipe, type RecipeRequest } from './types.ts';

export const TORCHTUNE_CONFIG = 'torchtune.yaml';
/** The dataset builder's module (a fixed, importable name; the same text for every export). */
export const TORCHTUNE_MODULE = 'atlas_torchtune.py';
export const TORCHTUNE_BUILDER = 'atlas_torchtune.atlas_messages';

interface TorchtuneModel {
  /** Builder names in torchtune.models.<family> (full, LoRA). */
  family: 'qwen2_5' | 'llama3_1' | 'llama3_2';
  full: string;
  lora: string;
  tokenizer: 'qwen2_5' | 'llama3';
  shards: number;
  modelType: 'QWEN2' | 'LLAMA3' | 'LLAMA3_2';
}

/** Hugging Face checkpoints this recipe writes torchtune configs for (builders and checkpoint
 *  files as torchtune's own configs for them name them). */
export const TORCHTUNE_MODELS: Readonly<Record<string, TorchtuneModel>> = {
  'Qwen/Qwen2.5-0.5B-Instruct': { family: 'qwen2_5', full: 'qwen2_5_0_5b', lora: 'lora_qwen2_5_0_5b', tokenizer: 'qwen2_5', shards: 1, modelType: 'QWEN2' },
  'Qwen/Qwen2.5-1.5B-Instruct': { family: 'qwen2_5', full: 'qwen2_5_1_5b_instruct', lora: 'lora_qwen2_5_1_5b_instruct', tokenizer: 'qwen2_5', shards: 1, modelType: 'QWEN2' },
  'Qwen/Qwen2.5-3B-Instruct': { family: 'qwen2_5', full: 'qwen2_5_3b', lora: 'lora_qwen2_5_3b', tokenizer: 'qwen2_5', shards: 2, modelType: 'QWEN2' },
  'Qwen/Qwen2.5-7B-Instruct': { family: 'qwen2_5', full: 'qwen2_5_7b_instruct', lora: 'lora_qwen2_5_7b_instruct', tokenizer: 'qwen2_5', shards: 4, modelType: 'QWEN2' },
  'meta-llama/Llama-3.2-1B-Instruct': { family: 'llama3_2', full: 'llama3_2_1b', lora: 'lora_llama3_2_1b', tokenizer: 'llama3', shards: 1, modelType: 'LLAMA3_2' },
  'meta-llama/Llama-3.2-3B-Instruct': { family: 'llama3_2', full: 'llama3_2_3b', lora: 'lora_llama3_2_3b', tokenizer: 'llama3', shards: 2, modelType: 'LLAMA3_2' },
  'meta-llama/Llama-3.1-8B-Instruct': { family: 'llama3_1', full: 'llama3_1_8b', lora: 'lora_llama3_1_8b', tokenizer: 'llama3', shards: 4, modelType: 'LLAMA3' },
};

const lastPart = (p: string) => p.replace(/\/+$/, '').split('/').pop() ?? p;

/** The known checkpoint a --model names: its hub id, or a folder named like it (a local download). */
export function torchtuneModel(model: string): { id: string; spec: TorchtuneModel; folder?: string } {
  const byId = Object.keys(TORCHTUNE_MODELS).find((id) => id.toLowerCase() === model.toLowerCase());
  if (byId) return { id: byId, spec: TORCHTUNE_MODELS[byId] };
  // Anything else whose last part is a known checkpoint's name is a folder holding it.
  const byFolder = Object.keys(TORCHTUNE_MODELS).find((id) => lastPart(id).toLowerCase() === lastPart(model).toLowerCase());
  if (byFolder) return { id: byFolder, spec: TORCHTUNE_MODELS[byFolder], folder: model.replace(/\/+$/, '') };
  throw new Error(
    `--format torchtune: torchtune builds the model from its own builders, and this recipe knows ${Object.keys(TORCHTUNE_MODELS).join(', ')} ` +
      `(as hub ids, or a local folder of the same name); got --model ${model}. Export with one of them, or without --model and edit model/tokenizer/checkpointer (see "tune ls")`,
  );
}

function checkpointFiles(shards: number): string[] {
  if (shards === 1) return ['model.safetensors'];
  const n = String(shards).padStart(5, '0');
  return Array.from({ length: shards }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`);
}

/** The dataset builder: messages with their own `masked` flags → torchtune's SFTDataset. */
export const TORCHTUNE_MODULE_TEXT = `"""torchtune dataset builder for "atlas export --format torchtune" files.

Each line is {"id", "messages": [{"role", "content", "masked"}]}. Every message becomes a
torchtune Message with the file's own "masked" flag, so exactly the agent turns the export
selected carry loss (masked: false); system, user and unselected agent turns are masked.
torchtune's built-in chat_dataset masks by role and cannot express that.

Use it in a config as
    dataset:
      _component_: atlas_torchtune.atlas_messages
      data_files: <the exported .jsonl>
and launch tune run with this folder on PYTHONPATH (see the config's header).
"""
from typing import Any, Mapping

from torchtune.data import Message
from torchtune.datasets import PackedDataset, SFTDataset
from torchtune.modules.transforms import Transform


class AtlasMessages(Transform):
    """One exported line -> {"messages": [Message, ...]} with the line's own masks."""

    def __call__(self, sample: Mapping[str, Any]) -> Mapping[str, Any]:
        messages = []
        for m in sample["messages"]:
            if not isinstance(m.get("masked"), bool):
                raise ValueError(f"message without a boolean 'masked' flag in {sample.get('id')!r}: {m!r}")
            messages.append(Message(role=m["role"], content=m["content"], masked=m["masked"]))
        return {"messages": messages}


def atlas_messages(tokenizer, data_files: str, packed: bool = False, split: str = "train"):
    """The exported file as a torchtune SFT dataset (the tokenizer is the model transform)."""
    ds = SFTDataset(
        source="json",
        data_files=data_files,
        split=split,
        message_transform=AtlasMessages(),
        model_transform=tokenizer,
    )
    if packed:
        return PackedDataset(ds, max_seq_len=tokenizer.max_seq_len, split_across_pack=False)
    return ds
`;

export function torchtuneRecipe(r: RecipeRequest): Recipe {
  const lora = r.loraRank !== undefined;
  const { id, spec, folder } = torchtuneModel(r.model);
  const dir = folder ?? `models/${lastPart(id)}`;
  const file = sideName(r.dataFile, TORCHTUNE_CONFIG);
  const recipe = lora ? 'lora_finetune_distributed' : 'full_finetune_distributed';
  const download = `tune download ${id} --output-dir ${dir}${spec.tokenizer === 'llama3' ? ' --ignore-patterns "original/consolidated.00.pth"' : ''}`;
  const launch = `PYTHONPATH=$PWD tune run --nproc_per_node ${r.gpus} ${recipe} --config ${file}`;
  const out = `outputs/${stemOf(r.dataFile)}-torchtune`;
  const tokenizer: YamlMap =
    spec.tokenizer === 'qwen2_5'
      ? { _component_: 'torchtune.models.qwen2_5.qwen2_5_tokenizer', path: `${dir}/vocab.json`, merges_file: `${dir}/merges.txt`, max_seq_len: r.seqLen }
      : { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: `${dir}/original/tokenizer.model`, max_seq_len: r.seqLen };
  const model: YamlMap = lora
    ? {
        _component_: `torchtune.models.${spec.family}.${spec.lora}`,
        lora_attn_modules: ['q_proj', 'k_proj', 'v_proj', 'output_proj'],
        apply_lora_to_mlp: true,
        apply_lora_to_output: false,
        lora_rank: r.loraRank!,
        lora_alpha: loraAlpha(r.loraRank!),
        lora_dropout: D.loraDropout,
      }
    : { _component_: `torchtune.models.${spec.family}.${spec.full}` };
  const config: YamlMap = {
    output_dir: out,
    model,
    tokenizer,
    checkpointer: {
      _component_: 'torchtune.training.FullModelHFCheckpointer',
      checkpoint_dir: dir,
      checkpoint_files: checkpointFiles(spec.shards),
      recipe_checkpoint: null,
      output_dir: out,
      model_type: spec.modelType,
    },
    resume_from_checkpoint: false,
    ...(lora && { save_adapter_weights_only: false }),
    dataset: { _component_: TORCHTUNE_BUILDER, data_files: r.dataFile, packed: false },
    seed: null,
    shuffle: true,
    batch_size: D.microBatch,
    epochs: D.epochs,
    max_steps_per_epoch: null,
    gradient_accumulation_steps: D.gradAccum,
    optimizer: { _component_: 'torch.optim.AdamW', fused: true, weight_decay: 0.01, lr: lora ? D.learningRateLora : D.learningRateFull },
    ...(lora && { lr_scheduler: { _component_: 'torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup', num_warmup_steps: 100 } }),
    loss: { _component_: 'torchtune.modules.loss.CEWithChunkedOutputLoss' },
    clip_grad_norm: null,
    compile: false,
    device: 'cuda',
    dtype: 'bf16',
    enable_activation_checkpointing: true,
    enable_activation_offloading: false,
    metric_logger: { _component_: 'torchtune.training.metric_logging.DiskLogger', log_dir: `${out}/logs` },
    log_every_n_steps: 1,
    log_peak_memory_stats: false,
  };
  const yaml = toYaml(config, {
    header: [
      `torchtune config (${recipe}) written by "atlas export --format torchtune" for ${r.dataFile}.`,
      `The ATLaS mask is each message's "masked" flag, read by ${TORCHTUNE_MODULE} (beside this file).`,
      ...(folder ? [] : [`Download the model first:`, `  ${download}`]),
      `Run from the folder holding ${r.dataFile}, ${TORCHTUNE_MODULE} and this file:`,
      `  ${launch}`,
    ],
    comments: {
      model: [...modelComment(r, `one of ${Object.keys(TORCHTUNE_MODELS).join(', ')}`), lora ? `LoRA rank ${r.loraRank} (--lora); export without --lora for full fine-tuning` : 'full fine-tuning (no --lora), sharded over the GPUs by FSDP'],
      'tokenizer.max_seq_len': 'longer conversations are truncated from the end: pick a length that holds your trajectories (--seq-len)',
      dataset: `the exported messages with their own "masked" flags (${TORCHTUNE_MODULE}); false on exactly the selected agent turns`,
      loss: 'torchtune 0.6 loss (newer torchtune also offers torchtune.modules.loss.LinearCrossEntropyLoss)',
    },
  });
  return { sideFiles: { [TORCHTUNE_CONFIG]: yaml, [TORCHTUNE_MODULE]: TORCHTUNE_MODULE_TEXT }, commands: [...(folder ? [] : [download]), launch] };
}
