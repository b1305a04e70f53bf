// A local OpenAI-compatible /v1/chat/completions server for the oracle tests (node:http on
// 127.0.0.1, random port). Each request is answered by a scripted behaviour.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'good'; steps?: number[] }
  | { kind: 'malformed' }
  | { kind: 'prose' }
  | { kind: 'bad-indices' }
  | { kind: 'over-budget' }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'drop' }
  | { kind: 'echo-auth'; status: number };

export interface MockRequest {
  body: any;
  headers: IncomingMessage['headers'];
  /** Number of "Step k" blocks in the user message. */
  nSteps: number;
  /** The task line of the prompt ("Task:\n<line>"), used to identify the trajectory. */
  task: string;
  /** Requests already received for this task (0 for the first). */
  attempt: number;
}

export interface MockServer {
  baseUrl: string;
  /** Every request (empty with keepRequests: false). */
  requests: MockRequest[];
  /** Requests received and not yet answered or closed, now. */
  readonly inFlight: number;
  maxInFlight: number;
  usageSent: { prompt: number; completion: number };
  transportFaults: number;
  close(): Promise<void>;
}

/** A well-formed reply choosing `steps` (default: the first floor(0.3 n) or 1 steps, from the end). */
export function goodReply(nSteps: number, steps?: number[]): string {
  const k = Math.max(1, Math.floor(0.3 * nSteps + 1e-9));
  const chosen = steps ?? Array.from({ length: Math.min(k, nSteps) }, (_, i) => nSteps - 1 - i);
  return JSON.stringify({
    plan: 'find the thing; use it',
    critical: chosen.map((step, i) => ({ step, category: ['plan', 'observation', 'action', 'self-correction'][i % 4], reason: `reason for ${step}` })),
  });
}

export interface MockOptions {
  /** Milliseconds before each reply (a real endpoint's latency); none by default. A client gone meanwhile gets nothing. */
  latencyMs?: () => number;
  /** Keep every request in `requests` (default true; a run of thousands passes false). */
  keepRequests?: boolean;
  /** Called as each reply (status or completion) is sent, with its request and HTTP status. */
  onReply?: (req: MockRequest, status: number) => void;
}

export async function startMockOpenAI(script: (req: MockRequest) => Behaviour, opts: MockOptions = {}): Promise<MockServer> {
  const perTask = new Map<string, number>();
  let inFlight = 0;
  const state: Omit<MockServer, 'baseUrl' | 'close' | 'inFlight'> = { requests: [], maxInFlight: 0, usageSent: { prompt: 0, completion: 0 }, transportFaults: 0 };

  const reply = (res: ServerResponse, content: string, promptChars: number) => {
    const usage = { prompt_tokens: Math.ceil(promptChars / 4), completion_tokens: Math.ceil(content.length / 4) };
    state.usageSent.prompt += usage.prompt_tokens;
    state.usageSent.completion += usage.completion_tokens;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage }));
  };

  const server = createServer(async (req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    let closed = false;
    res.on('close', () => {
      closed = true;
      inFlight--;
    });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    const user = body.messages.find((m: any) => m.role === 'user')?.content ?? '';
    const nSteps = (user.match(/^Step \d+$/gm) ?? []).length;
    const task = /Task:\n(.*)/.exec(user)?.[1] ?? '';
    const attempt = perTask.get(task) ?? 0;
    perTask.set(task, attempt + 1);
    const mreq: MockRequest = { body, headers: req.headers, nSteps, task, attempt };
    if (opts.keepRequests !== false) state.requests.push(mreq);
    const b = script(mreq);
    if (opts.onReply) res.on('finish', () => opts.onReply!(mreq, res.statusCode));
    if (opts.latencyMs && b.kind !== 'drop') {
      await new Promise((r) => setTimeout(r, opts.latencyMs!()));
      if (closed) return;
    }
    const promptChars = body.messages.reduce((n: number, m: any) => n + m.content.length, 0);
    switch (b.kind) {
      case 'good':
        return reply(res, goodReply(nSteps, b.steps), promptChars);
      case 'malformed':
        return reply(res, '{"plan": "x", "critical": [{"step": 1, "category": "plan"', promptChars);
      case 'prose':
        return reply(res, 'Sure! Here is my analysis.\n```json\n' + goodReply(nSteps) + '\n```\nHope this helps.', promptChars);
      case 'bad-indices':
        return reply(res, JSON.stringify({ plan: 'p', critical: [{ step: nSteps + 5, category: 'action', reason: 'r' }, { step: 0, category: 'plan', reason: 'r' }, { step: 0, category: 'action', reason: 'dup' }, { step: 1.5, category: 'action', reason: 'r' }, { step: -1, category: 'plan', reason: 'r' }] }), promptChars);
      case 'over-budget':
        return reply(res, JSON.stringify({ plan: 'p', critical: Array.from({ length: nSteps }, (_, i) => ({ step: nSteps - 1 - i, category: 'action', reason: 'r' })) }), promptChars);
      case 'status': {
        state.transportFaults += b.status === 429 || b.status >= 500 ? 1 : 0;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (b.retryAfter !== undefined) headers['retry-after'] = b.retryAfter;
        res.writeHead(b.status, headers);
        return res.end(b.body ?? JSON.stringify({ error: { message: `status ${b.status}` } }));
      }
      case 'echo-auth':
        res.writeHead(b.status, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: `bad key: ${req.headers.authorization}` } }));
      case 'slow':
        state.transportFaults++;
        await new Promise((r) => setTimeout(r, b.ms));
        if (closed) return;
        return reply(res, goodReply(nSteps), promptChars);
      case 'drop':
        state.transportFaults++;
        req.socket.destroy();
        return;
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  // (a getter: Object.assign would copy its value once)
  Object.defineProperty(state, 'inFlight', { get: () => inFlight, enumerable: true });
  return Object.assign(state as typeof state & { readonly inFlight: number }, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
