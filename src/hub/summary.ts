// What the CLI prints and the page shows before a hub model's weights are downloaded: the
// download size, file by file, and the model's shape. Pure.
import type { HubModelInfo } from './fetch-model.ts';
import { hubRefText } from './hub-id.ts';

/** Decimal units, as the hub shows sizes: "269.1 MB". */
export function fmtDownload(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** "HuggingFaceTB/SmolLM2-135M-Instruct: 269.1 MB to download (model.safetensors 269.1 MB; 4 small files 3.6 MB)" */
export function downloadSummary(info: HubModelInfo): string {
  const w = info.weights;
  const metaBytes = info.meta.reduce((n, f) => n + f.size, 0);
  const weights = w.length === 1 ? `${w[0].path} ${fmtDownload(w[0].size)}` : `${w.length} shards ${fmtDownload(w.reduce((n, f) => n + f.size, 0))}`;
  const left = info.missingBytes < info.totalBytes - metaBytes ? `, ${fmtDownload(info.missingBytes)} of it still to fetch` : '';
  return `${hubRefText(info.ref)}: ${fmtDownload(info.totalBytes)} in all (${weights}; ${info.meta.length} small files ${fmtDownload(metaBytes)})${left}`;
}

/** "llama · 30 layers · d_model 576 · 9 heads (3 KV) · vocab 49152 · context 8192" */
export function shapeSummary(info: HubModelInfo): string {
  const c = info.config;
  return `${c.qkvBias ? 'qwen2' : 'llama'} · ${c.nLayers} layers · d_model ${c.dModel} · ${c.nHeads} heads (${c.nKvHeads} KV) · vocab ${c.vocabSize} · context ${c.maxSeqLen}${c.tiedEmbeddings ? ' · tied head' : ''}`;
}
