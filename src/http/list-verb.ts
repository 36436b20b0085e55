import { Duplex } from 'node:stream';

/**
 * Vault's API uses a LIST HTTP verb, which hvac and node-vault send as is,
 * but Node's HTTP parser refuses any method it does not know. This stream
 * sits between a client connection and Node's HTTP server and rewrites
 * `LIST /v1/path HTTP/1.1` into `GET /v1/path?list=true HTTP/1.1` (Vault's
 * own equivalent). It follows message framing (Content-Length and chunked
 * bodies) so every request on a keep-alive connection is seen; everything
 * else passes through untouched, and malformed input is left for Node's
 * parser to reject.
 */
const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

type State =
  | { kind: 'head' }
  | { kind: 'body'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'trailers' }
  /** Framing could not be followed (e.g. an oversized head): pass bytes through unchanged. */
  | { kind: 'raw' };

export class ListVerbRewriter {
  private state: State = { kind: 'head' };
  private pending = Buffer.alloc(0);

  /** Returns the bytes to hand to the HTTP parser for this chunk of client input. */
  push(chunk: Buffer): Buffer {
    if (this.state.kind === 'raw') return chunk;
    let input = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    const out: Buffer[] = [];
    while (input.length > 0) {
      const state: State = this.state;
      if (state.kind === 'raw') {
        out.push(input);
        break;
      }
      if (state.kind === 'body' || state.kind === 'chunk-data') {
        const n = Math.min(state.remaining, input.length);
        out.push(input.subarray(0, n));
        input = input.subarray(n);
        state.remaining -= n;
        if (state.remaining === 0) this.state = state.kind === 'body' ? { kind: 'head' } : { kind: 'chunk-size' };
        continue;
      }
      const terminator = state.kind === 'head' ? HEAD_END : CRLF;
      const end = state.kind === 'trailers' ? findTrailersEnd(input) : input.indexOf(terminator);
      if (end === -1) {
        if (input.length > MAX_HEAD) {
          this.state = { kind: 'raw' };
          out.push(input);
        } else {
          this.pending = Buffer.from(input);
        }
        break;
      }
      const stop = state.kind === 'trailers' ? end : end + terminator.length;
      const part = input.subarray(0, stop);
      input = input.subarray(stop);
      if (state.kind === 'head') out.push(this.startMessage(part));
      else if (state.kind === 'chunk-size') {
        out.push(part);
        const size = parseInt(part.toString('latin1').split(';')[0].trim(), 16);
        if (!Number.isFinite(size) || size < 0) this.state = { kind: 'raw' };
        // Chunk data is followed by CRLF, which the data state carries along.
        else this.state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining: size + 2 };
      } else {
        out.push(part);
        this.state = { kind: 'head' };
      }
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  private startMessage(head: Buffer): Buffer {
    const text = head.toString('latin1');
    const lineEnd = text.indexOf('\r\n');
    const requestLine = text.slice(0, lineEnd);
    let headers = text.slice(lineEnd);
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(headers)) this.state = { kind: 'chunk-size' };
    else {
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
      const n = length ? Number(length[1]) : 0;
      this.state = n > 0 ? { kind: 'body', remaining: n } : { kind: 'head' };
    }
    const m = /^LIST ([^ ]+)( HTTP\/1\.[01])$/.exec(requestLine);
    if (!m) return head;
    const target = m[1] + (m[1].includes('?') ? '&' : '?') + 'list=true';
    headers = headers.replace(/\r\ncontent-length:\s*0\r\n/i, '\r\n');
    return Buffer.from(`GET ${target}${m[2]}${headers}`, 'latin1');
  }
}

/** Trailers end at an empty line: either right away ("\r\n") or after trailer fields ("...\r\n\r\n"). */
function findTrailersEnd(input: Buffer): number {
  if (input.length >= 2 && input[0] === 0x0d && input[1] === 0x0a) return 2;
  const i = input.indexOf(HEAD_END);
  return i === -1 ? -1 : i + 4;
}

/**
 * Wraps a client connection so Node's HTTP server reads rewritten requests
 * and writes straight to the connection. Node's `server.emit('connection', duplex)`
 * accepts any Duplex.
 */
export function rewriteListVerb(socket: Duplex & { remoteAddress?: string; remotePort?: number }): Duplex {
  const rewriter = new ListVerbRewriter();
  const wrapped = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    // Node's HTTP server corks headers and body together: one syscall, not one per piece.
    writev(chunks: Array<{ chunk: Buffer }>, cb) {
      socket.write(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!wrapped.push(rewriter.push(chunk))) socket.pause();
  });
  socket.on('end', () => wrapped.push(null));
  socket.on('close', () => wrapped.destroy());
  socket.on('error', (err) => wrapped.destroy(err));
  // Idle keep-alive connections are closed by Node's server through 'timeout'.
  socket.on('timeout', () => wrapped.emit('timeout'));
  // What Node's HTTP server and fastify read off a socket.
  Object.assign(wrapped, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    encrypted: (socket as { encrypted?: boolean }).encrypted,
    setTimeout: (ms: number, cb?: () => void) => {
      (socket as unknown as { setTimeout?: (ms: number, cb?: () => void) => void }).setTimeout?.(ms, cb);
      return wrapped;
    },
    setNoDelay: (v?: boolean) => (socket as unknown as { setNoDelay?: (v?: boolean) => void }).setNoDelay?.(v),
    setKeepAlive: (e?: boolean, d?: number) => (socket as unknown as { setKeepAlive?: (e?: boolean, d?: number) => void }).setKeepAlive?.(e, d),
  });
  return wrapped;
}
