/**
 * A server of its own for the tests of one describe. Kept apart from server.ts, which the bench imports
 * too, so that only test files load node:test.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startServer, type StartOptions, type TestServer } from './server.ts';

/**
 * A server of its own for the tests of the enclosing describe: started before them and disposed of after
 * them. Call it in the describe's body; the tests read `.server`.
 */
export function suiteServer(opts: StartOptions = {}): { readonly server: TestServer } {
  const suite: { server?: TestServer } = {};
  before(async () => {
    suite.server = await startServer(opts);
  });
  after(async () => {
    await suite.server?.dispose();
  });
  return {
    get server(): TestServer {
      assert.ok(suite.server, 'the suite server has not started');
      return suite.server;
    },
  };
}
