// `atlas convert --from <model.bin> --out <hf-folder>`: llama2.c checkpoint → Hugging Face folder.
import type { Command } from '../main.ts';
import { parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { convertLlama2c } from '../../../models/convert-llama2c.ts';

const HELP = `usage: atlas convert --from <model.bin> --out <hf-folder>

Converts a llama2.c version-0 checkpoint into a Hugging Face Llama folder
(config.json + model.safetensors in f32, generation_config.json, and the tokenizer
found beside the checkpoint).`;

export const command: Command = {
  summary: 'convert a llama2.c .bin checkpoint into a Hugging Face folder',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('convert', argv, HELP, stringOptions('from', 'out'));
    if (!parsed) return 0;
    const { values } = parsed;
    const from = requireOption('convert', values.from, 'from');
    const out = requireOption('convert', values.out, 'out');
    const report = await convertLlama2c(from, out);
    const c = report.config;
    console.log(`converted ${from} → ${out}`);
    console.log(`  model: vocab ${c.vocabSize}, d_model ${c.dModel}, ${c.nLayers} layers, ${c.nHeads} heads (${c.nKvHeads} kv), hidden ${c.hiddenDim}, context ${c.maxSeqLen}, ${c.tiedEmbeddings ? 'tied' : 'untied'} head`);
    console.log(`  wrote: ${report.files.join(', ')}`);
    console.log(`  tokenizer: ${report.tokenizer}`);
    return 0;
  },
};
