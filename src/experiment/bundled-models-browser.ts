// The app's shipped model folders (models/<folder>/) as the bundler's asset URLs, for the
// page's workers. Browser only: Node reads the same folders from disk (src/cli/model-arg.ts).
import { urlMapSource, type FileSource } from '../engine/weights/file-source.ts';

const assets = import.meta.glob('../../models/base/*.{json,safetensors}', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

export function bundledModelBrowser(folder: string): FileSource {
  const prefix = `../../models/${folder}/`;
  const urls = new Map(Object.entries(assets).filter(([p]) => p.startsWith(prefix)).map(([p, url]) => [p.slice(prefix.length), url]));
  if (!urls.size) throw new Error(`the app has no bundled model folder "${folder}"`);
  return urlMapSource(urls, `models/${folder}`);
}
