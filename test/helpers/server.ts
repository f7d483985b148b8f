/**
 * Starts the REAL onair server process (`server/main.ts` under the Node that runs
 * the tests) on a free port and a temporary data dir, and talks to it over HTTP.
 *
 *   const s = await startServer();
 *   after(() => s.dispose());
 *   const res = await s.api<Channel>('POST', '/api/v1/channels', { name: 'a' });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN = path.join(ROOT, 'server', 'main.ts');
export const TEST_TOKEN = 'onair-test-admin-token-0123456789';

const START_TIMEOUT_MS = 20_000;
const KILL_AFTER_MS = 5_000;

/** Every child still running, so a crashed test run never leaves one behind. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Reply<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: T;
}

export interface RequestOptions {
  /** An object is sent as JSON; a string or Buffer is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the admin token (default true). */
  auth?: boolean;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}

export interface StartOptions {
  /** Reuse a data dir (default: a fresh temporary one). */
  dataDir?: string;
  /** The admin token to configure; null leaves ONAIR_ADMIN_TOKEN unset. */
  token?: string | null;
  /** Extra environment. */
  env?: Record<string, string>;
}

/** The environment of a child: the parent's, minus anything onair reads, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('ONAIR_') || k === 'PORT' || k === 'HOST' || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  // Tests run on werift unless ONAIR_SFU picks the engine (ONAIR_SFU=mediasoup with a worker).
  env.ONAIR_SFU = process.env.ONAIR_SFU ?? 'werift';
  // (Next's types make NODE_ENV a required key of ProcessEnv.)
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

export class TestServer {
  url = '';
  token = '';
  readonly dataDir: string;
  readonly ownsDataDir: boolean;
  /** Every stdout line (pino JSON) of every start, parsed when it is JSON. */
  readonly logs: Record<string, unknown>[] = [];
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  readonly #opts: StartOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(opts: StartOptions = {}) {
    this.#opts = opts;
    this.ownsDataDir = opts.dataDir === undefined;
    this.dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'onair-test-'));
  }

  async start(): Promise<this> {
    assert.equal(this.#child, undefined, 'server already started');
    const configured = this.#opts.token === undefined ? TEST_TOKEN : this.#opts.token;
    const env = childEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      ONAIR_DATA_DIR: this.dataDir,
      ONAIR_UI: '0',
      ONAIR_LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      // RTMP and SRT listeners only where a test asks for them (they take fixed ports).
      ONAIR_RTMP_PORT: '0',
      ONAIR_SRT_PORT_MIN: '0',
      ...(configured === null ? {} : { ONAIR_ADMIN_TOKEN: configured }),
      ...this.#opts.env,
    });
    const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    this.exitCode = null;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code) => {
        this.exitCode = code;
        live.delete(child);
        resolve();
      });
    });

    const url = await new Promise<string>((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => {
        reject(new Error(`onair did not start within ${START_TIMEOUT_MS} ms\nstderr:\n${this.stderr}`));
      }, START_TIMEOUT_MS);
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        this.stderr += chunk;
      });
      child.stdout.on('data', (chunk: string) => {
        this.stdout += chunk;
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          let entry: Record<string, unknown> | undefined;
          try {
            entry = JSON.parse(line) as Record<string, unknown>;
          } catch {
            continue;
          }
          this.logs.push(entry);
          const msg = entry.msg;
          if (
            typeof msg === 'string' &&
            msg.startsWith('onair listening on ') &&
            typeof entry.url === 'string'
          ) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `onair exited (code ${code}, signal ${signal}) before listening\nstderr:\n${this.stderr}`,
          ),
        );
      });
    });
    this.url = url;
    this.token = configured ?? readFileSync(path.join(this.dataDir, 'admin-token'), 'utf8').trim();
    return this;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** SIGTERM, wait for the exit; SIGKILL after 5 s. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    if (!child) return this.exitCode;
    this.#child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    return this.exitCode;
  }

  /** A crash: SIGKILL, no clean shutdown. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** Stop, then start again on the same data dir (the port may change). */
  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  /** Stop and remove the data dir when this helper made it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Log entries at pino level error (50) or above. */
  errorLogs(): Record<string, unknown>[] {
    return this.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
  }

  request<T = unknown>(method: string, urlPath: string, opts: RequestOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      if (typeof opts.body === 'string') payload = Buffer.from(opts.body);
      else if (Buffer.isBuffer(opts.body)) payload = opts.body;
      else {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['content-type'] = 'application/json';
      }
      if (!opts.chunked) headers['content-length'] = String(payload.length);
    }
    if (opts.auth !== false) headers.authorization = `Bearer ${this.token}`;
    Object.assign(headers, opts.headers);
    const target = new URL(urlPath, this.url);
    return new Promise<Reply<T>>((resolve, reject) => {
      const req = httpRequest(target, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          if ((res.headers['content-type'] ?? '').startsWith('application/json') && text.length > 0) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: json as T });
        });
      });
      req.on('error', reject);
      if (payload && opts.chunked) {
        // Several writes so the body really goes out in chunks.
        const step = 16 * 1024;
        for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
        req.end();
      } else req.end(payload);
    });
  }

  /** A JSON API call with the admin token. */
  api<T = unknown>(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply<T>> {
    return this.request<T>(method, urlPath, { body, headers: headers ?? {} });
  }
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const s = new TestServer(opts);
  try {
    return await s.start();
  } catch (err) {
    await s.dispose();
    throw err;
  }
}

/** Runs server/main.ts with `env` and expects it to exit by itself (bad config). */
export function runUntilExit(
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`onair did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ── assertions ───────────────────────────────────────────────────────────

/** The text looks like a stack trace or a raw JS error. */
export function assertNoLeak(text: string): void {
  assert.doesNotMatch(text, /\n\s+at /, `body carries a stack trace: ${text}`);
  assert.doesNotMatch(text, /\bat .+\.(ts|js):\d+/, `body carries a stack frame: ${text}`);
  assert.doesNotMatch(text, /\b(Type|Reference|Syntax|Range)?Error:/, `body carries a raw error: ${text}`);
}

/** Asserts the one error shape: `{"error":{"code","message"}}` with the right status. */
export function assertError(
  res: Reply,
  status: number,
  code: string,
  messageMatch?: RegExp | string,
): { code: string; message: string } {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, `error is not JSON: ${res.text}`);
  assertNoLeak(res.text);
  const body = res.json as { error?: { code?: unknown; message?: unknown } } | undefined;
  assert.ok(
    body && typeof body === 'object' && body.error && typeof body.error === 'object',
    `no error object: ${res.text}`,
  );
  assert.deepEqual(Object.keys(body).sort(), ['error'], `extra top-level keys: ${res.text}`);
  assert.equal(body.error.code, code, `wrong code: ${res.text}`);
  assert.equal(typeof body.error.message, 'string');
  const message = body.error.message as string;
  assert.ok(message.length > 0, 'empty message');
  if (messageMatch !== undefined) {
    if (typeof messageMatch === 'string')
      assert.ok(
        message.includes(messageMatch),
        `message ${JSON.stringify(message)} does not name ${messageMatch}`,
      );
    else assert.match(message, messageMatch);
  }
  return { code, message };
}

/** PATCHes the channel with `body` and asserts the error reply, as assertError does. */
export async function assertPatchRefused(
  s: TestServer,
  channelId: string,
  body: Record<string, unknown>,
  status: number,
  code: string,
  messageMatch?: RegExp | string,
): Promise<void> {
  assertError(await s.api('PATCH', `/api/v1/channels/${channelId}`, body), status, code, messageMatch);
}
