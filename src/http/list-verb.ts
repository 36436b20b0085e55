import { maxHeaderSize } from 'node:http';
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
/**
 * Node's parser refuses a head larger than its maxHeaderSize (431), so the
 * rewriter holds back no more than that (plus a little slack) per connection.
 */
const MAX_HEAD = maxHeaderSize + 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

type State =
  | { kind: 'head' }
  | { kind: 'body'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'trailers' }
  /** Framing could not be followed (e.g. an oversized head): pass bytes through unchanged. */
  | { kind: 'raw' };

/**
 * Where each request is in its framing, as the rewriter follows it. The
 * listener's read timeouts hang off these: the rewriter holds a partial head
 * back from Node's parser, so Node's own header timeout never sees it.
 */
export interface MessageObserver {
  /** The first byte of a request arrived. */
  messageStart(): void;
  /** Its head is complete (and handed on to the HTTP parser). */
  headComplete(): void;
  /** Its body (if any) is complete too. */
  messageComplete(): void;
}

export class ListVerbRewriter {
  private state: State = { kind: 'head' };
  /** Bytes of an unfinished head or chunk line, held back until it is complete. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** A request's first bytes have arrived and its head is not complete yet. */
  private midHead = false;

  constructor(private readonly observer?: MessageObserver) {}

  /** Returns the bytes to hand to the HTTP parser for this chunk of client input. */
  push(chunk: Buffer): Buffer {
    if (this.state.kind === 'raw') return chunk;
    let input = chunk;
    if (this.pendingLength > 0) {
      // Still short of the end of a head or chunk line. Look for it only where
      // it can newly be (the last few held bytes and this chunk), so a head
      // trickled in one byte at a time costs linear, not quadratic, work.
      if (!this.mayCompletePending(chunk)) {
        this.pending.push(Buffer.from(chunk));
        this.pendingLength += chunk.length;
        if (this.pendingLength <= MAX_HEAD) return EMPTY;
        this.state = { kind: 'raw' };
        return this.takePending();
      }
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      input = this.takePending();
    }
    const out: Buffer[] = [];
    while (input.length > 0) {
      const state: State = this.state;
      if (state.kind === 'head' && !this.midHead) {
        this.midHead = true;
        this.observer?.messageStart();
      }
      if (state.kind === 'raw') {
        out.push(input);
        break;
      }
      if (state.kind === 'body' || state.kind === 'chunk-data') {
        const n = Math.min(state.remaining, input.length);
        out.push(input.subarray(0, n));
        input = input.subarray(n);
        state.remaining -= n;
        if (state.remaining === 0) {
          if (state.kind === 'body') this.endMessage();
          else this.state = { kind: 'chunk-size' };
        }
        continue;
      }
      const terminator = state.kind === 'head' ? HEAD_END : CRLF;
      const end = state.kind === 'trailers' ? findTrailersEnd(input) : input.indexOf(terminator);
      if (end === -1) {
        if (input.length > MAX_HEAD) {
          this.state = { kind: 'raw' };
          out.push(input);
        } else {
          this.pending = [Buffer.from(input)];
          this.pendingLength = input.length;
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
        this.endMessage();
      }
    }
    return out.length === 0 ? EMPTY : out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Whether the held bytes plus `chunk` may hold the terminator the current state waits for. */
  private mayCompletePending(chunk: Buffer): boolean {
    // An empty trailer section is a CRLF right at its start: too short to search by tail.
    if (this.state.kind === 'trailers' && this.pendingLength < 2) return true;
    const terminator = this.state.kind === 'chunk-size' ? CRLF : HEAD_END;
    const keep = terminator.length - 1;
    const last = this.pending[this.pending.length - 1];
    const tail = last.length >= keep ? last.subarray(last.length - keep) : this.takeTail(keep);
    return Buffer.concat([tail, chunk]).indexOf(terminator) !== -1;
  }

  /** The last `n` held bytes, across chunks. */
  private takeTail(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    for (let i = this.pending.length - 1; i >= 0 && need > 0; i--) {
      const piece = this.pending[i];
      parts.unshift(piece.subarray(Math.max(0, piece.length - need)));
      need -= parts[0].length;
    }
    return Buffer.concat(parts);
  }

  private takePending(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLength);
    this.pending = [];
    this.pendingLength = 0;
    return all;
  }

  private endMessage(): void {
    this.state = { kind: 'head' };
    this.observer?.messageComplete();
  }

  private startMessage(head: Buffer): Buffer {
    this.midHead = false;
    this.observer?.headComplete();
    const out = this.rewriteHead(head);
    if (this.state.kind === 'head') this.observer?.messageComplete();
    return out;
  }

  /** Sets the body state from the head's framing headers; returns the head, LIST rewritten. */
  private rewriteHead(head: Buffer): Buffer {
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
export function rewriteListVerb(socket: Duplex & { remoteAddress?: string; remotePort?: number }, observer?: MessageObserver): Duplex {
  const rewriter = new ListVerbRewriter(observer);
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
