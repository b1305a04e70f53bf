// A client for any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's
// server, Ollama, ...). It asks for a JSON reply when the server supports it, retries 429,
// 5xx, timeouts and network errors with exponential backoff and jitter (honouring
// Retry-After), and never lets the API key reach an error message. Uses global fetch, so
// it runs unchanged in Node 20 and browsers.
import { estimateTokens as estimate, type ChatMessage } from './selector-prompt.ts';
import { CancelledError, RunControl, sleep } from './control.ts';

export interface OracleConfig {
  /** e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8000/v1"; /chat/completions is appended. */
  baseUrl: string;
  model: string;
  /** Sent as a Bearer token; kept in memory only. */
  apiKey?: string;
  /** Ask for response_format json_object (default true); switched off for the run if the server answers 400 to it. */
  jsonMode?: boolean;
  /** Per-request timeout, ms (default 60 000). */
  timeoutMs?: number;
  /** Retries after the first attempt for retryable failures (default 4). */
  maxRetries?: number;
  /** Backoff before retry r (0-based) is backoffBaseMs·2^r scaled by a jitter in [0.5, 1), capped at backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After honoured, ms (default 120 000); longer waits are capped to it. */
  maxRetryAfterMs?: number;
  temperature?: number;
  maxTokens?: number;
  /** Jitter source, injectable for tests. */
  random?: () => number;
  fetchImpl?: typeof fetch;
}

export type ChatOutcome =
  | { ok: true; content: string; usage: { prompt: number; completion: number }; usageReported: boolean }
  | { ok: false; error: string };

export interface OracleStats {
  requests: number;
  retries: number;
  jsonModeFallbacks: number;
  tokens: { prompt: number; completion: number };
}

class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** Retry-After is either delta-seconds or an HTTP date. Returns ms to wait, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class OracleClient {
  readonly stats: OracleStats = { requests: 0, retries: 0, jsonModeFallbacks: 0, tokens: { prompt: 0, completion: 0 } };
  private jsonMode: boolean;
  private readonly url: string;

  constructor(private readonly config: OracleConfig) {
    if (!/^https?:\/\//i.test(config.baseUrl)) throw new Error(`oracle base URL must start with http:// or https:// (got "${config.baseUrl}")`);
    if (!config.model) throw new Error('oracle model name is required');
    this.url = config.baseUrl.replace(/\/+$/, '') + '/chat/completions';
    this.jsonMode = config.jsonMode ?? true;
  }

  get usesJsonMode() {
    return this.jsonMode;
  }

  /** Removes the API key from any text that leaves this client. */
  private redact(text: string): string {
    const key = this.config.apiKey;
    // Short placeholder keys ("x", "EMPTY", as local servers accept) would turn ordinary
    // words into "[redacted]"; a key that short is no secret worth hiding.
    return key && key.length >= 8 ? text.split(key).join('[redacted]') : text;
  }

  /** One chat completion with retries. Throws CancelledError when the run is cancelled. */
  async complete(messages: ChatMessage[], control: RunControl): Promise<ChatOutcome> {
    const maxRetries = this.config.maxRetries ?? 4;
    for (let attempt = 0; ; attempt++) {
      await control.whenRunning();
      try {
        return await this.attempt(messages, control);
      } catch (err) {
        if (err instanceof CancelledError || control.isCancelled) throw new CancelledError();
        if (!(err instanceof RetryableError)) return { ok: false, error: this.redact((err as Error).message) };
        if (attempt >= maxRetries) return { ok: false, error: this.redact(`${err.message}; gave up after ${attempt + 1} attempts`) };
        this.stats.retries++;
        await sleep(this.delayBeforeRetry(attempt, err.retryAfterMs), control);
      }
    }
  }

  private delayBeforeRetry(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.config.maxRetryAfterMs ?? 120_000);
    const base = this.config.backoffBaseMs ?? 500;
    const jitter = 0.5 + 0.5 * (this.config.random ?? Math.random)();
    return Math.min(base * 2 ** attempt * jitter, this.config.backoffMaxMs ?? 30_000);
  }

  private async attempt(messages: ChatMessage[], control: RunControl): Promise<ChatOutcome> {
    const jsonMode = this.jsonMode;
    const body: Record<string, unknown> = {
      model: this.config.model,
      messages,
      temperature: this.config.temperature ?? 0,
    };
    if (this.config.maxTokens) body.max_tokens = this.config.maxTokens;
    if (jsonMode) body.response_format = { type: 'json_object' };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;

    const timeoutMs = this.config.timeoutMs ?? 60_000;
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    const offCancel = control.onCancel(() => abort.abort());
    this.stats.requests++;
    try {
      let response: Response;
      let text: string;
      try {
        response = await (this.config.fetchImpl ?? fetch)(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal: abort.signal });
        text = await response.text();
      } catch (err) {
        if (control.isCancelled) throw new CancelledError();
        if (timedOut) throw new RetryableError(`no reply within ${timeoutMs} ms`);
        const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
        throw new RetryableError(`network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
      if (response.status === 429 || response.status >= 500) {
        throw new RetryableError(`HTTP ${response.status}${snippet(text)}`, parseRetryAfter(response.headers.get('retry-after')));
      }
      if (response.status === 400 && jsonMode) {
        // Servers without JSON mode reject response_format; ask again without it, once per run.
        this.jsonMode = false;
        this.stats.jsonModeFallbacks++;
        return this.attempt(messages, control);
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}${snippet(text)}`);
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        throw new Error(`the server's response is not JSON${snippet(text)}`);
      }
      const content = json?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('the response has no choices[0].message.content');
      const promptTokens = json?.usage?.prompt_tokens;
      const completionTokens = json?.usage?.completion_tokens;
      const usageReported = Number.isFinite(promptTokens) && Number.isFinite(completionTokens);
      const usage = usageReported
        ? { prompt: promptTokens as number, completion: completionTokens as number }
        : { prompt: estimate(messages.map((m) => m.content).join('\n')), completion: estimate(content) };
      this.stats.tokens.prompt += usage.prompt;
      this.stats.tokens.completion += usage.completion;
      return { ok: true, content, usage, usageReported };
    } finally {
      clearTimeout(timer);
      offCancel();
    }
  }
}


function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t ? `: ${t.length > 200 ? t.slice(0, 200) + '...' : t}` : '';
}

/** Estimated cost in the price unit given (e.g. dollars per 1M tokens). */
export function estimateCost(tokens: { prompt: number; completion: number }, price?: { promptPerM: number; completionPerM: number }): number | undefined {
  if (!price) return undefined;
  return (tokens.prompt * price.promptPerM + tokens.completion * price.completionPerM) / 1e6;
}
