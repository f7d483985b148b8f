/**
 * Which Host headers the server may write into URLs it hands out (API channel
 * URLs, the DASH clock). A Host is chosen by the client: reflecting any value
 * lets a request plant another site's address into answers a cache may keep.
 * ONAIR_PUBLIC_URL wins; otherwise only this machine's own names and addresses,
 * localhost, and ONAIR_ALLOWED_HOSTS are used, and for any other Host the URLs
 * are relative (`/live/…`), which every client resolves against the server it
 * asked.
 */
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

export interface HostPolicyOptions {
  publicUrl: string | undefined;
  allowedHosts: readonly string[];
  /** The address the server listens on (HOST). */
  listenHost?: string;
}

/** The host name of a Host header: lower case, no port, no brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

const VALID_HOST_HEADER = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export class HostPolicy {
  readonly #publicUrl: string | undefined;
  readonly #exact = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #any: boolean;

  constructor(opts: HostPolicyOptions) {
    this.#publicUrl = opts.publicUrl;
    for (const h of ['localhost', '127.0.0.1', '::1', hostname().toLowerCase()]) this.#exact.add(h);
    if (opts.listenHost && opts.listenHost !== '0.0.0.0' && opts.listenHost !== '::')
      this.#exact.add(hostName(opts.listenHost));
    if (opts.publicUrl)
      this.#exact.add(new URL(opts.publicUrl).hostname.toLowerCase().replace(/^\[|\]$/g, ''));
    let any = false;
    for (const h of opts.allowedHosts) {
      if (h === '*') any = true;
      else if (h.startsWith('*.')) this.#suffixes.push(h.slice(1));
      else this.#exact.add(hostName(h));
    }
    this.#any = any;
  }

  /** True when `header` (a Host header value) names this server. */
  allows(header: string | undefined): boolean {
    if (!header || !VALID_HOST_HEADER.test(header)) return false;
    if (this.#any) return true;
    const name = hostName(header);
    if (this.#exact.has(name) || name.endsWith('.localhost')) return true;
    if (this.#suffixes.some((s) => name.endsWith(s))) return true;
    // The machine's addresses can change (DHCP): read them when a name is not known.
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (a.address.toLowerCase() === name) return true;
    }
    return false;
  }

  /**
   * The base URL clients reach this server at: ONAIR_PUBLIC_URL, else
   * `http://<Host>` for an allowed Host, else '' (URLs stay relative).
   */
  baseUrl(req: IncomingMessage): string {
    if (this.#publicUrl) return this.#publicUrl;
    const host = req.headers.host;
    return host && this.allows(host) ? `http://${host}` : '';
  }
}
