// A local stand-in for the Hugging Face hub (or a mirror) for the model downloads: node:http on
// 127.0.0.1, a random port, serving in-memory model folders (tiny-hub-model.ts) as the hub
// does — `/<org>/<name>/resolve/<rev>/<file>` (GET and HEAD, `Range: bytes=a-` answered with
// 206) and the file list with sizes at `/api/models/<org>/<name>/tree/<rev>`; anything else
// is a 404 like the hub's. It sends the hub's CORS headers, so a page on another origin
// downloads from it. `dropAfter` cuts the connection once after N bytes of a file (an
// interrupted download); `gate` holds a file's body until released (a download in progress).
// Every request is recorded.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import type { HubFiles } from './tiny-hub-model.ts';

export interface MockRepo {
  id: string;
  revision?: string;
  files: HubFiles;
  /** Listed with their sizes but answered 404 (a mirror missing a file). */
  unserved?: string[];
}

export interface MockRequest {
  method: string;
  path: string;
  /** The repository file asked for (resolve requests). */
  file?: string;
  range?: string;
  status: number;
}

export interface MockHubServer {
  url: string;
  requests: MockRequest[];
  /** Cut the next GET of `file` after `bytes` bytes (once). */
  dropAfter(file: string, bytes: number): void;
  /** Send `bytes` of `file`, then wait for release() before the rest (next GET, once). */
  gate(file: string, bytes: number): { release(): void; reached: Promise<void> };
  /** Bytes per write and the pause between writes, for a visible progress bar (default: all at once). */
  throttle(chunkBytes: number, pauseMs: number): void;
  close(): Promise<void>;
  server: Server;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'content-length, content-range, etag, x-linked-size',
};

export async function startMockHubServer(repos: MockRepo[]): Promise<MockHubServer> {
  const requests: MockRequest[] = [];
  const drops = new Map<string, number>();
  const gates = new Map<string, { bytes: number; wait: Promise<void>; arrived: () => void }>();
  let throttle: { chunk: number; pauseMs: number } | undefined;
  const byKey = new Map(repos.map((r) => [`${r.id}@${r.revision ?? 'main'}`, r]));

  const server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    const record = (status: number, file?: string) => requests.push({ method: req.method ?? '?', path, file, range: req.headers.range, status });
    if (req.method === 'OPTIONS') {
      record(204);
      return void res.writeHead(204, { ...CORS, 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, HEAD' }).end();
    }
    const notFound = (file?: string) => {
      record(404, file);
      res.writeHead(404, { ...CORS, 'content-type': 'text/plain', 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    };
    const pathname = decodeURIComponent(path.split('?')[0]);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/(.+)$/.exec(pathname);
    if (tree) {
      const repo = byKey.get(`${tree[1]}@${tree[2]}`);
      if (!repo) {
        record(404);
        return void res.writeHead(404, { ...CORS, 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Repository not found' }));
      }
      const list = [...repo.files].map(([p, bytes]) => {
        const oid = createHash('sha1').update(bytes).digest('hex');
        return p.endsWith('.safetensors')
          ? { type: 'file', oid, size: 134, path: p, lfs: { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, pointerSize: 134 } }
          : { type: 'file', oid, size: bytes.length, path: p };
      });
      record(200);
      return void res.writeHead(200, { ...CORS, 'content-type': 'application/json' }).end(JSON.stringify(list));
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
    const repo = resolve ? byKey.get(`${resolve[1]}@${resolve[2]}`) : undefined;
    const file = resolve?.[3];
    const body = file ? repo?.files.get(file) : undefined;
    if (!body || repo!.unserved?.includes(file!)) return notFound(file);
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const head: Record<string, string | number> = { ...CORS, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (range) {
      start = Number(range[1]);
      end = Math.min(end, range[2] ? Number(range[2]) : end);
      if (start >= body.length) {
        record(416, file);
        return void res.writeHead(416, { ...CORS, 'content-range': `bytes */${body.length}` }).end();
      }
      status = 206;
      head['content-range'] = `bytes ${start}-${end}/${body.length}`;
    }
    head['content-length'] = end - start + 1;
    record(status, file);
    res.writeHead(status, head);
    if (req.method === 'HEAD') return void res.end();
    await send(res, body.subarray(start, end + 1), file!);
  });

  async function send(res: ServerResponse, bytes: Uint8Array, file: string) {
    const drop = drops.get(file);
    const gate = gates.get(file);
    const cut = drop ?? gate?.bytes;
    if (drop !== undefined) drops.delete(file);
    if (gate) gates.delete(file);
    const chunk = throttle?.chunk ?? bytes.length;
    for (let at = 0; at < bytes.length; ) {
      const upTo = cut !== undefined && at < cut ? Math.min(cut, at + chunk) : Math.min(bytes.length, at + chunk);
      await new Promise<void>((ok) => res.write(bytes.subarray(at, upTo), () => ok()));
      at = upTo;
      if (cut !== undefined && at === cut) {
        if (drop !== undefined) {
          // Flushed, then the connection dies: the client has the first `cut` bytes.
          await new Promise((ok) => setTimeout(ok, 50));
          return void res.socket?.destroy();
        }
        gate!.arrived();
        await gate!.wait;
      }
      if (throttle && at < bytes.length) await new Promise((ok) => setTimeout(ok, throttle!.pauseMs));
    }
    res.end();
  }

  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    server,
    dropAfter: (file, bytes) => void drops.set(file, bytes),
    gate(file, bytes) {
      let release!: () => void;
      let arrived!: () => void;
      const wait = new Promise<void>((ok) => (release = ok));
      const reached = new Promise<void>((ok) => (arrived = ok));
      gates.set(file, { bytes, wait, arrived });
      return { release, reached };
    },
    throttle: (chunk, pauseMs) => void (throttle = { chunk, pauseMs }),
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
