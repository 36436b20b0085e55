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
  close(): Promise<void>;
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
    if (this.inFlight === 0 && this.wrapped.writableLength === 0 && this.socket.writable) this.socket.write(response);
    this.socket.destroy();
  }
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
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const guard = guards.get(req.socket);
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
  const accept = (socket: net.Socket) => {
    if (socket.destroyed) return; // refused by the connection cap
    open.add(socket);
    const guard = new ConnectionGuard(socket, headerTimeoutMs, readTimeoutMs);
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
  const server = opts.tls
    ? tls.createServer(
        {
          cert: readFileSync(opts.tls.certFile),
          key: readFileSync(opts.tls.keyFile),
          // Go bounds the handshake by the shortest of the read deadlines.
          handshakeTimeout: headerTimeoutMs || readTimeoutMs || 120_000,
        },
        accept,
      )
    : net.createServer(accept);
  // The cap counts every accepted TCP connection (TLS ones from before their
  // handshake). One beyond it is reset at once: a client sees ECONNRESET
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
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      });
      await app.close();
    },
  };
}
