import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { httpLoad } from './http-load.ts';
import { startBareHttp } from './children.ts';

describe('httpLoad against a real node:http server', () => {
  let server: http.Server;
  let url: string;
  const sockets = new Set<unknown>();
  let bodiesSeen = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (body === '{"x":1}') bodiesSeen++;
        res.writeHead(req.url === '/fail' ? 503 : 200, { 'content-type': 'application/json' });
        res.end(req.url === '/fail' ? '{"errors":["sealed"]}' : '{}');
      });
    });
    server.on('connection', (socket) => sockets.add(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reuses one keep-alive socket per in-flight request and sends the body', async () => {
    const body = Buffer.from('{"x":1}');
    const result = await httpLoad({ url, concurrency: 4, warmupMs: 50, durationMs: 200, request: () => ({ method: 'POST', path: '/ok', body }) });
    assert.ok(result.ops > 20, `ops ${result.ops}`);
    assert.equal(result.errors, 0);
    assert.equal(sockets.size, 4);
    assert.equal(bodiesSeen, result.issued);
  });

  it('counts a non-2xx response as an error whose message has the status and body', async () => {
    const result = await httpLoad({
      url,
      concurrency: 2,
      warmupMs: 0,
      durationMs: 100,
      request: (seq) => ({ method: 'GET', path: seq % 2 ? '/fail' : '/ok' }),
    });
    assert.ok(result.errors > 0);
    assert.match(result.firstError!, /GET \/fail → HTTP 503: \{"errors":\["sealed"\]\}/);
  });
});

describe('startBareHttp', () => {
  it('runs a child process that answers any request with the given body', async () => {
    const bare = await startBareHttp('{"sealed":false}');
    try {
      const res = await fetch(`${bare.url}/v1/anything`, { method: 'POST', body: '{"a":1}' });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '{"sealed":false}');
    } finally {
      await bare.stop();
    }
  });
});
