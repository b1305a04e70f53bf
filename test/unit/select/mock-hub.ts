// A local stand-in for the Hugging Face hub (or a mirror of it) for the judge's download tests:
// node:http on 127.0.0.1, random port, serving one model folder as the repository `repo` under
// `/<org>/<name>/resolve/main/<file>`, read from disk at request time (never copied). Anything
// else is a 404, as the hub answers a missing file. It sends the CORS headers the hub sends
// (a page on another origin downloads from it) and answers `Range: bytes=a-b` with 206, which
// transformers.js uses to read a file's size. Every request is recorded.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';

export interface HubRequest {
  method: string;
  /** Path and query as asked, e.g. /atlas-test/stories260K/resolve/main/config.json */
  path: string;
  /** The file inside the repository when the path was under /<repo>/resolve/main/, else undefined. */
  file?: string;
  range?: string;
  status: number;
}

export interface MockHub {
  /** Base URL to give as the hub mirror, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  requests: HubRequest[];
  server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.json': 'application/json', '.onnx': 'application/octet-stream' };

export async function startMockHub(repo: string, folder: string, port = 0): Promise<MockHub> {
  const root = resolve(folder);
  const prefix = `/${repo}/resolve/main/`;
  const requests: HubRequest[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-length, content-range, etag' };
    const record = (status: number, file?: string) => requests.push({ method: req.method ?? '?', path, file, range: req.headers.range, status });
    if (req.method === 'OPTIONS') {
      record(204);
      return void res.writeHead(204, { ...cors, 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, HEAD' }).end();
    }
    const pathname = decodeURIComponent(path.split('?')[0]);
    const rel = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : undefined;
    const file = rel === undefined ? undefined : resolve(root, rel);
    if (!file || !file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      record(404, rel);
      return void res.writeHead(404, { ...cors, 'content-type': 'text/plain' }).end('Entry not found');
    }
    const body = readFileSync(file);
    const type = TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(body.length - 1, range[2] ? Number(range[2]) : body.length - 1);
      if (start >= body.length) {
        record(416, rel);
        return void res.writeHead(416, { ...cors, 'content-range': `bytes */${body.length}` }).end();
      }
      record(206, rel);
      return void res.writeHead(206, { ...cors, 'content-type': type, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 }).end(body.subarray(start, end + 1));
    }
    record(200, rel);
    res.writeHead(200, { ...cors, 'content-type': type, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** Whole-file downloads (200) of `file`, as opposed to 1-byte Range probes. */
export const downloads = (requests: HubRequest[], file: string) => requests.filter((r) => r.file === file && r.status === 200).length;
