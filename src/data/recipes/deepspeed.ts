// Full fine-tuning of a 7B model does not fit one GPU's memory with plain data parallelism
// (weights, gradients and AdamW state are ~16 bytes a parameter), so the Axolotl, LLaMA-Factory
// and TRL recipes shard them with DeepSpeed ZeRO stage 3 (pip install deepspeed). The file
// uses the Hugging Face Trainer integration's "auto" values, so batch sizes, accumulation,
// clipping and precision come from the trainer's own config and never disagree with it.
// LoRA recipes need no sharding and do not use it. torchtune shards with FSDP by itself.

export const DEEPSPEED_FILE = 'atlas_zero3.json';

export const DEEPSPEED_ZERO3 = {
  train_batch_size: 'auto',
  train_micro_batch_size_per_gpu: 'auto',
  gradient_accumulation_steps: 'auto',
  gradient_clipping: 'auto',
  bf16: { enabled: 'auto' },
  zero_optimization: {
    stage: 3,
    overlap_comm: true,
    contiguous_gradients: true,
    reduce_bucket_size: 'auto',
    stage3_prefetch_bucket_size: 'auto',
    stage3_param_persistence_threshold: 'auto',
    stage3_gather_16bit_weights_on_model_save: true,
  },
};

export const deepspeedText = () => JSON.stringify(DEEPSPEED_ZERO3, null, 2) + '\n';
