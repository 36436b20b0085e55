import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { TestServer, type Api } from './server.ts';

/**
 * For a describe() block: a -dev server with transit mounted at transit/,
 * started before its tests and stopped after them. Read `api` inside tests.
 */
export function transitDevServer(): { readonly api: Api } {
  let server: TestServer | undefined;
  before(async () => {
    server = await TestServer.startDev();
    assert.equal((await server.api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get api() {
      if (!server) throw new Error('the transit dev server is not started yet');
      return server.api;
    },
  };
}

/** Awaits a request and asserts its status (the body in the message when it differs); returns the body. */
export async function must(res: Promise<{ status: number; body: any }>, status = 200): Promise<any> {
  const r = await res;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}
