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

describe('LIST verb rewriter: message framing events', () => {
  /** Feeds `input` in pieces of `size` bytes and records the observer's events with the byte offset they came at. */
  function events(input: string, size: number): string[] {
    const seen: string[] = [];
    let at = 0;
    const r = new ListVerbRewriter({
      messageStart: () => seen.push(`start@${at}`),
      headComplete: () => seen.push(`head@${at}`),
      messageComplete: () => seen.push(`done@${at}`),
    });
    const bytes = Buffer.from(input, 'latin1');
    for (let i = 0; i < bytes.length; i += size) {
      at = Math.min(i + size, bytes.length);
      r.push(bytes.subarray(i, i + size));
    }
    return seen;
  }

  it('reports each request\'s first byte, the end of its head and the end of its body, in any split', () => {
    const first = 'PUT /v1/a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}';
    const second = 'GET /v1/b HTTP/1.1\r\n\r\n';
    const third = 'POST /v1/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n';
    const input = first + second + third;
    // Whole input at once: every event in one push.
    assert.deepEqual(events(input, input.length), Array(3).fill([`start@${input.length}`, `head@${input.length}`, `done@${input.length}`]).flat());
    // Byte by byte: each event at the byte that causes it.
    const headEnd = (s: string) => s.indexOf('\r\n\r\n') + 4;
    const a = first.length;
    const b = a + second.length;
    assert.deepEqual(events(input, 1), [
      'start@1', `head@${headEnd(first)}`, `done@${a}`,
      `start@${a + 1}`, `head@${b}`, `done@${b}`,
      `start@${b + 1}`, `head@${b + headEnd(third)}`, `done@${input.length}`,
    ]);
  });

  it('reports no head while one trickles in, and a head trickled a byte at a time comes out whole', () => {
    const head = 'GET /v1/sys/health HTTP/1.1\r\n' + 'X-Pad: 0123456789abcdef\r\n'.repeat(400);
    assert.deepEqual(events(head, 1), ['start@1']);
    const r = new ListVerbRewriter();
    const out: Buffer[] = [];
    for (const byte of Buffer.from(head + '\r\n', 'latin1')) out.push(r.push(Buffer.from([byte])));
    assert.equal(Buffer.concat(out).toString('latin1'), head + '\r\n');
  });
});
