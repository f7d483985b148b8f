/** GET /metrics: Prometheus text, behind a token when one is set; a public one names no restricted channel. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import { renderPrometheus, type Sample } from '../observability/metrics.ts';
import type { AuthGate } from './auth.ts';
import { clientAddress, sendError, sendText } from './http.ts';

export interface MetricsEndpointOptions {
  token: string | undefined;
  gate: AuthGate;
  /** The samples; `isPublic` when no token protects them. */
  samples(isPublic: boolean): Promise<Sample[]>;
  log: Logger;
}

export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  opts: MetricsEndpointOptions,
): Promise<void> {
  res.setHeader('Cache-Control', 'no-store');
  if (opts.token) {
    const address = clientAddress(req);
    if (opts.gate.isLimited(address)) return opts.gate.refuse(res, address);
    try {
      opts.gate.checkToken(req, address, opts.token, 'metrics token');
    } catch (err) {
      sendError(res, err, opts.log);
      return;
    }
  }
  const body = renderPrometheus(await opts.samples(opts.token === undefined));
  sendText(res, 200, body, 'text/plain; version=0.0.4; charset=utf-8');
}
