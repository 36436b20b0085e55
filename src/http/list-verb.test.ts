import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListVerbRewriter } from './list-verb.ts';

/** Feeds `input` to a rewriter in pieces of `size` bytes and joins the output. */
function rewrite(input: string, size = input.length): string {
  const r = new ListVerbRewriter();
  const bytes = Buffer.from(input, 'latin1');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(r.push(bytes.subarray(i, i + size)));
  return Buffer.concat(out).toString('latin1');
}

describe('LIST verb rewriter', () => {
  it('turns LIST into GET with list=true, keeping the query and headers', () => {
    assert.equal(rewrite('LIST /v1/secret/metadata HTTP/1.1\r\nHost: x\r\n\r\n'), 'GET /v1/secret/metadata?list=true HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(rewrite('LIST /v1/kv/?a=b HTTP/1.1\r\nHost: x\r\n\r\n'), 'GET /v1/kv/?a=b&list=true HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  it('leaves other methods, bodies included, byte for byte alone', () => {
    const req = 'POST /v1/kv/a HTTP/1.1\r\nContent-Length: 25\r\n\r\n{"LIST /v1/x HTTP/1.1":1}';
    assert.equal(rewrite(req), req);
  });

  it('follows Content-Length bodies and chunked bodies across keep-alive requests, in any split', () => {
    const body = '{"LIST /x HTTP/1.1\\r\\n\\r\\n":1}';
    const input =
      `PUT /v1/a HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
      'LIST /v1/b HTTP/1.1\r\n\r\n' +
      'POST /v1/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nLIST\r\n6\r\n /v1/x\r\n0\r\n\r\n' +
      'LIST /v1/d HTTP/1.1\r\n\r\n';
    const expected = input.replace('LIST /v1/b HTTP/1.1', 'GET /v1/b?list=true HTTP/1.1').replace('LIST /v1/d HTTP/1.1', 'GET /v1/d?list=true HTTP/1.1');
    for (const size of [1, 2, 3, 7, 16, input.length]) assert.equal(rewrite(input, size), expected, `split ${size}`);
  });

  it('gives up rewriting (and passes bytes through) on a head too large to be a request', () => {
    const huge = 'GET /v1/x HTTP/1.1\r\nX: ' + 'a'.repeat(70 * 1024);
    assert.equal(rewrite(huge + '\r\n\r\nLIST /v1/y HTTP/1.1\r\n\r\n', 4096), huge + '\r\n\r\nLIST /v1/y HTTP/1.1\r\n\r\n');
  });
});
