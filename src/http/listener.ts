import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_READ_HEADER_TIMEOUT_MS,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_WRITE_TIMEOUT_MS,
} from '../config/stanzas.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { rewriteListVerb, type MessageObserver } from './list-verb.ts';

export interface ListenOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  /** Vault's `http_read_header_timeout`, ms (0 = none); default 10 s. */
  readHeaderTimeoutMs?: number;
  /** Vault's `http_read_timeout`, ms (0 = none); default 30 s. */
  readTimeoutMs?: number;
  /** Vault's `http_write_timeout`, ms (0 = none); default none. */
  writeTimeoutMs?: number;
  /** Vault's `http_idle_timeout`, ms; default 5 min; 0 falls back to the read, then the header timeout. */
  idleTimeoutMs?: number;
  /** Open connections beyond which new ones are reset at once; default {@link defaultMaxConnections}. */
  maxConnections?: number;
  logger?: Logger;
}

export interface Listener {
  port: number;
  /**
   * Stops accepting; with `drainMs`, lets requests in flight finish (their
   * responses say Connection: close) for up to that long, closing each
   * connection once it is idle; then closes whatever is left.
   */
  close(drainMs?: number): Promise<void>;
}

/** Upper bound of the default connection cap. */
const MAX_DEFAULT_CONNECTIONS = 4096;
/** How long a connection whose response side is closed may wait for the client to close its side. */
const CLOSE_LINGER_MS = 5_000;
/** At most one log line per this interval for each kind of refused connection. */
const LOG_INTERVAL_MS = 10_000;

/**
 * The default connection cap: half the process's file-descriptor limit (the
 * other half stays for storage, the HSM library and logs), at most
 * {@link MAX_DEFAULT_CONNECTIONS}; the upper bound where the limit cannot be read.
 */
export function defaultMaxConnections(limitsFile = '/proc/self/limits'): number {
  let soft: number | undefined;
  try {
    const line = readFileSync(limitsFile, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const value = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (value && /^\d+$/.test(value)) soft = Number(value);
  } catch {
    // Not Linux, or no /proc: keep the upper bound.
  }
  if (soft === undefined) return MAX_DEFAULT_CONNECTIONS;
  return Math.max(16, Math.min(MAX_DEFAULT_CONNECTIONS, Math.floor(soft / 2)));
}

function timeoutResponse(message: string): string {
  const body = JSON.stringify({ errors: [message] });
  return `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
const HEADER_TIMEOUT_RESPONSE = timeoutResponse('timed out reading the request headers');
const READ_TIMEOUT_RESPONSE = timeoutResponse('timed out reading the request');

/**
 * The read deadlines of one connection, driven by the LIST rewriter, which
 * sees every request's framing before Node's parser does (and holds a
 * partial head back from it, so Node's own headersTimeout cannot apply).
 * Both deadlines run from a request's first byte, or for a connection's
 * first request from its accept, as Go's server (and so Vault) counts them:
 * the header deadline ends with the head, the read deadline with the body.
 * Waiting between keep-alive requests is the idle timeout, Node's
 * keepAliveTimeout.
 */
class ConnectionGuard implements MessageObserver {
  /** Responses Node's server has started for this connection and not finished. */
  inFlight = 0;
  private headerTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private reading = false;
  wrapped!: Duplex;

  constructor(
    private readonly socket: net.Socket,
    private readonly headerTimeoutMs: number,
    private readonly readTimeoutMs: number,
  ) {}

  messageStart(): void {
    if (this.reading) return;
    this.reading = true;
    if (this.headerTimeoutMs > 0) this.headerTimer = setTimeout(() => this.expire(HEADER_TIMEOUT_RESPONSE), this.headerTimeoutMs);
    if (this.readTimeoutMs > 0) this.readTimer = setTimeout(() => this.expire(READ_TIMEOUT_RESPONSE), this.readTimeoutMs);
  }

  headComplete(): void {
    clearTimeout(this.headerTimer);
    this.headerTimer = undefined;
  }

  messageComplete(): void {
    this.headComplete();
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
    this.reading = false;
  }

  /** Our side is closed (Connection: close): give the client a while to close its own. */
  responsesEnded(): void {
    this.lingerTimer ??= setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
  }

  closed(): void {
    this.messageComplete();
    clearTimeout(this.lingerTimer);
  }

  /**
   * A 408 in Vault's error shape when nothing else is being written on the
   * connection (no response under way, nothing queued), as Node's own
   * request timeout does; then the connection is closed either way.
   */
  private expire(response: string): void {
    if (this.socket.destroyed) return;
    if (this.inFlight === 0 && this.wrapped.writableLength === 0 && this.socket.writable) {
      // Destroying at once could drop the 408 still queued in libuv on a busy loop: close once it is flushed,
      // and in any case soon (a client that does not read must not hold the socket open).
      const force = setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
      force.unref();
      this.socket.end(response, () => {
        clearTimeout(force);
        this.socket.destroy();
      });
      return;
    }
    this.socket.destroy();
  }
}

/** A TLS record of type handshake: what a TLS client sends first. */
const TLS_HANDSHAKE_RECORD = 0x16;
/** Go's answer to a TLS handshake on a plain HTTP port: the request line is malformed. */
const TLS_TO_HTTP_RESPONSE = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';
/** Go's answer (net/http) to plain HTTP sent to a TLS port, byte for byte. */
const HTTP_TO_HTTPS_RESPONSE = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';
/** How many bytes Go looks at to tell an HTTP request from a TLS record header. */
const HTTP_SNIFF_LENGTH = 5;

/** Go's test (net/http) of whether a would-be TLS record header is an HTTP request instead. */
export function looksLikeHttp(head: Buffer): boolean {
  const start = head.subarray(0, HTTP_SNIFF_LENGTH).toString('latin1');
  return ['GET /', 'HEAD ', 'POST ', 'PUT /', 'OPTIO'].includes(start);
}

/**
 * Reads until `length` bytes have arrived (or a TLS handshake record has
 * started, or the client stopped sending), then pauses the socket; the
 * caller puts the bytes back with unshift. Undefined when nothing came
 * within `timeoutMs` (the socket is then destroyed) or it closed.
 */
function readFirstBytes(socket: net.Socket, length: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (result: Buffer | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length || chunks[0]![0] === TLS_HANDSHAKE_RECORD) finish(Buffer.concat(chunks));
    };
    const onEnd = () => finish(got > 0 ? Buffer.concat(chunks) : undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      finish(undefined);
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/**
 * On a plain HTTP port, a connection that opens with a TLS handshake gets
 * Go's 400 at once and is closed, so an https:// client fails straight away
 * instead of waiting for the header timeout.
 */
function refuseTlsHandshake(socket: net.Socket): void {
  socket.prependOnceListener('data', (chunk: Buffer) => {
    if (chunk[0] !== TLS_HANDSHAKE_RECORD) return;
    socket.pause();
    socket.end(TLS_TO_HTTP_RESPONSE, () => socket.destroy());
  });
}

/** Logs at most once per {@link LOG_INTERVAL_MS}, with how many events it stands for. */
function throttledLog(log: (msg: string) => void, what: string): () => void {
  let last = 0;
  let count = 0;
  return () => {
    count++;
    const now = Date.now();
    if (now - last < LOG_INTERVAL_MS) return;
    log(`${what} (${count} since the last report)`);
    last = now;
    count = 0;
  };
}

/**
 * Accepts TCP (or TLS) connections itself and hands each, through the LIST
 * verb rewriter, to the fastify app's HTTP server, which never listens on a
 * port of its own. This is where connections are bounded: header, read,
 * write and idle timeouts and a cap on open connections, so that slow or
 * abandoned clients cannot hold the process's file descriptors.
 */
export async function listen(app: FastifyInstance, opts: ListenOptions): Promise<Listener> {
  await app.ready();
  const logger = opts.logger ?? silentLogger;
  const headerTimeoutMs = opts.readHeaderTimeoutMs ?? DEFAULT_READ_HEADER_TIMEOUT_MS;
  const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const writeTimeoutMs = opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
  // Vault: an idle timeout of 0 falls back to the read timeout, then to the header timeout.
  const idleTimeoutMs = (opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) || readTimeoutMs || headerTimeoutMs;

  // The HTTP server never listens, so Node's own header/request deadlines
  // (checked by a timer that starts on 'listening') never run; set them to
  // the same values anyway. The keep-alive timeout does apply: Node arms it
  // through setTimeout on the (wrapped) socket after each response.
  const httpServer = app.server;
  httpServer.keepAliveTimeout = idleTimeoutMs;
  httpServer.headersTimeout = headerTimeoutMs;
  httpServer.requestTimeout = readTimeoutMs;

  const guards = new WeakMap<Duplex, ConnectionGuard>();
  let draining = false;
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const guard = guards.get(req.socket);
    if (draining) res.setHeader('connection', 'close');
    if (guard) {
      guard.inFlight++;
      res.once('close', () => guard.inFlight--);
    }
    // Go's WriteTimeout: from the end of the head to the end of the response.
    if (writeTimeoutMs > 0) {
      const timer = setTimeout(() => req.socket.destroy(), writeTimeoutMs);
      res.once('close', () => clearTimeout(timer));
    }
  });

  const open = new Set<net.Socket>();
  const guardOf = new WeakMap<net.Socket, ConnectionGuard>();
  const accept = (socket: net.Socket) => {
    if (socket.destroyed) return;
    open.add(socket);
    const guard = new ConnectionGuard(socket, headerTimeoutMs, readTimeoutMs);
    guardOf.set(socket, guard);
    socket.once('close', () => {
      open.delete(socket);
      guard.closed();
    });
    const wrapped = rewriteListVerb(socket, guard);
    guard.wrapped = wrapped;
    guards.set(wrapped, guard);
    wrapped.once('finish', () => guard.responsesEnded());
    // The first request's deadlines run from the accept (after the TLS handshake).
    guard.messageStart();
    httpServer.emit('connection', wrapped);
  };
  // TLS connections go through a TLS server that never listens either: the
  // listening socket is plain TCP, so a connection's first bytes can be looked
  // at before the handshake (plain HTTP sent to the TLS port gets Go's 400).
  const tlsServer = opts.tls
    ? tls.createServer(
        {
          cert: readFileSync(opts.tls.certFile),
          key: readFileSync(opts.tls.keyFile),
          // Go bounds the handshake by the shortest of the read deadlines.
          handshakeTimeout: headerTimeoutMs || readTimeoutMs || 120_000,
        },
        accept,
      )
    : undefined;
  const raw = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    if (socket.destroyed) return; // refused by the connection cap
    raw.add(socket);
    socket.once('close', () => raw.delete(socket));
    if (!tlsServer) {
      refuseTlsHandshake(socket);
      accept(socket);
      return;
    }
    const deadline = headerTimeoutMs || readTimeoutMs || 120_000;
    readFirstBytes(socket, HTTP_SNIFF_LENGTH, deadline).then((head) => {
      if (socket.destroyed) return;
      if (head && looksLikeHttp(head)) {
        socket.end(HTTP_TO_HTTPS_RESPONSE, () => socket.destroy());
        return;
      }
      if (head) socket.unshift(head);
      tlsServer.emit('connection', socket);
    });
  });
  // The cap counts every accepted TCP connection (TLS ones from before their
  // first byte). One beyond it is reset at once: a client sees ECONNRESET
  // right away (a plain close can leave some clients waiting), and the
  // descriptor is free again before anything is read.
  const maxConnections = opts.maxConnections ?? defaultMaxConnections();
  const logRefused = throttledLog(logger.warn, `http: connection limit (${maxConnections}) reached; refusing new connections`);
  let connections = 0;
  server.prependListener('connection', (socket: net.Socket) => {
    if (connections >= maxConnections) {
      socket.resetAndDestroy();
      logRefused();
      return;
    }
    connections++;
    socket.once('close', () => connections--);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // From here on an accept error (EMFILE/ENFILE: out of file descriptors)
  // must not end the process; libuv has already closed the connection it
  // could not take, and later ones are accepted again once descriptors free up.
  const logFdExhausted = throttledLog(logger.error, 'http: cannot accept connections: out of file descriptors (lower max_connections or raise the limit)');
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') logFdExhausted();
    else logger.error(`http: listener error: ${err.code ?? err.message}`);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    async close(drainMs = 0) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      draining = true;
      const deadline = Date.now() + drainMs;
      for (;;) {
        let busy = 0;
        for (const s of open) {
          const guard = guardOf.get(s);
          // Busy: a request in flight, or response bytes not yet handed to the kernel.
          if ((guard?.inFlight ?? 0) > 0 || s.writableLength > 0 || (guard?.wrapped?.writableLength ?? 0) > 0) busy++;
          else s.destroy();
        }
        if (busy === 0 || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      if (open.size > 0) logger.warn(`http: shutdown drain deadline passed; closing ${open.size} connection(s) with requests in flight`);
      for (const s of open) s.destroy();
      for (const s of raw) s.destroy();
      await closed;
      await app.close();
    },
  };
}
