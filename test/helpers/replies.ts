/**
 * What API tests read from replies: headers as one string or a list, a body as bytes, and a log of every
 * reply a file got.
 */
import { request as httpRequest } from 'node:http';
import type { Reply, RequestOptions, TestServer } from './server.ts';

/** The header as one string (Node joins repeated headers, Link among them, with ", "). */
export function header(res: Reply, name: string): string {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** The header's comma-separated values, lower-cased. */
export function headerList(res: Reply, name: string): string[] {
  return header(res, name)
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
}

/** A request on a fresh connection whose body is read as bytes (media segments, images). */
export function getBytes(
  s: TestServer,
  p: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(p, s.url), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every reply of every server a test file calls without the admin token, so it can check that none was a 5xx. */
export class ReplyLog {
  readonly replies: { method: string; path: string; status: number; text: string }[] = [];

  async call(s: TestServer, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
    const res = await s.request(method, path, { auth: false, ...opts });
    this.replies.push({ method, path, status: res.status, text: res.text });
    return res;
  }

  /** POSTs an SDP offer to a WHIP or WHEP endpoint. */
  postSdp(
    s: TestServer,
    path: string,
    sdp: string | Buffer,
    headers: Record<string, string> = {},
    extra: Partial<RequestOptions> = {},
  ): Promise<Reply> {
    return this.call(s, 'POST', path, {
      body: sdp,
      headers: { 'content-type': 'application/sdp', ...headers },
      ...extra,
    });
  }
}
