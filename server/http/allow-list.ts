import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** True when `address` is inside one of the CIDRs (or single addresses); an empty list allows anyone. */
export function isAllowed(list: readonly string[], address: string): boolean {
  if (list.length === 0) return true;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return false;
  const block = new BlockList();
  for (const entry of list) {
    const [net, bits] = entry.split('/');
    if (!net) continue;
    const netFamily = isIPv4(net) ? 'ipv4' : 'ipv6';
    if (bits === undefined) block.addAddress(net, netFamily);
    else block.addSubnet(net, Number(bits), netFamily);
  }
  return block.check(address, family);
}
