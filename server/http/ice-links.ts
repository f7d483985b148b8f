/** STUN/TURN servers as `Link: <url>; rel="ice-server"` header values (RFC 9725 §4.6, WHEP likewise). */
export interface IceServerLike {
  urls: string | string[];
  username?: string | undefined;
  credential?: string | undefined;
}

export function iceServerLinks(servers: readonly IceServerLike[]): string[] {
  const links: string[] = [];
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      let link = `<${url}>; rel="ice-server"`;
      if (s.username !== undefined) link += `; username="${s.username.replace(/"/g, '')}"`;
      if (s.credential !== undefined)
        link += `; credential="${s.credential.replace(/"/g, '')}"; credential-type="password"`;
      links.push(link);
    }
  }
  return links;
}
