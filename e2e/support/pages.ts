/** Pages served by the test itself, from another origin than the app's. */
import { createServer, type Server } from 'node:http';

/** Serves these HTML pages (by path; 404 for anything else) on 127.0.0.1 at a free port: same site, another origin. */
export function serveOtherOrigin(pages: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const body = pages[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
