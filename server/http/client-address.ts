/**
 * Who the client is. Behind a reverse proxy every request comes from the proxy's
 * address, so rate limits and allow-lists would treat every viewer as one client.
 * With ONAIR_TRUST_PROXY set, the address named by trusted proxies in
 * `Forwarded` (RFC 7239) or `X-Forwarded-For` is used instead; headers from
 * anyone else are ignored, so a client cannot pick its own address.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** The socket peer's address, without the IPv4-mapped IPv6 prefix. */
export function socketAddress(req: IncomingMessage): string {
  return normalizeAddress(req.socket.remoteAddress ?? '');
}

export function normalizeAddress(addr: string): string {
  return addr.toLowerCase().startsWith('::ffff:') && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

/** A set of trusted proxy networks; empty trusts nobody. */
export class TrustedProxies {
  readonly #block = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    this.size = cidrs.length;
    for (const entry of cidrs) {
      const [net, bits] = entry.split('/');
      if (!net) continue;
      const family = isIPv4(net) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#block.addAddress(net, family);
      else this.#block.addSubnet(net, Number(bits), family);
    }
  }

  trusts(address: string): boolean {
    if (this.size === 0) return false;
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    return family !== undefined && this.#block.check(address, family);
  }
}

/** One hop of `Forwarded: for=…` or `X-Forwarded-For`, as an address (port, brackets and quotes removed). */
function hopAddress(raw: string): string | undefined {
  let v = raw.trim().replace(/^"|"$/g, '');
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    v = end > 0 ? v.slice(1, end) : v;
  } else if (/^[\d.]+:\d+$/.test(v)) {
    v = v.slice(0, v.lastIndexOf(':'));
  }
  v = normalizeAddress(v);
  return isIPv4(v) || isIPv6(v) ? v : undefined;
}

/** The hops a request went through, client first, as the proxies wrote them. */
export function forwardedChain(req: IncomingMessage): (string | undefined)[] | undefined {
  const forwarded = req.headers.forwarded;
  if (forwarded) {
    const hops: (string | undefined)[] = [];
    for (const element of forwarded.split(',')) {
      const pair = element
        .split(';')
        .map((p) => p.trim())
        .find((p) => p.toLowerCase().startsWith('for='));
      hops.push(pair ? hopAddress(pair.slice(4)) : undefined);
    }
    return hops;
  }
  const xff = req.headers['x-forwarded-for'];
  if (xff) return (Array.isArray(xff) ? xff.join(',') : xff).split(',').map(hopAddress);
  return undefined;
}

/**
 * The client's address: the socket peer unless it is a trusted proxy; then the
 * hops are read from the nearest one back, skipping trusted proxies, and the
 * first untrusted hop is the client. A hop that is not an address (`unknown`,
 * obfuscated) stops the walk at the last trusted proxy.
 */
export function resolveClientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  let address = socketAddress(req);
  if (!trusted.trusts(address)) return address;
  const chain = forwardedChain(req);
  if (!chain) return address;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = chain[i];
    if (hop === undefined) return address;
    address = hop;
    if (!trusted.trusts(hop)) return hop;
  }
  return address;
}
