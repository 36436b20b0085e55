import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { badRequest } from '../errors.ts';
import { durationOptionMs, type AuditDevice } from './types.ts';

/** Vault's default socket write timeout. */
const DEFAULT_WRITE_TIMEOUT_MS = 2_000;

export interface SocketOptions {
  address: string;
  socketType: 'tcp' | 'udp' | 'unix';
  writeTimeoutMs: number;
}

/** `address` (required), `socket_type` (tcp, udp or unix; default tcp), `write_timeout` (default 2s). */
export function socketOptions(options: Record<string, string>): SocketOptions {
  const address = options.address?.trim();
  if (!address) throw badRequest('address is required');
  const socketType = (options.socket_type?.trim() || 'tcp') as SocketOptions['socketType'];
  if (!['tcp', 'udp', 'unix'].includes(socketType)) throw badRequest('socket_type must be one of "tcp", "udp" or "unix"');
  if (socketType !== 'unix') hostPort(address);
  return { address, socketType, writeTimeoutMs: durationOptionMs(options, 'write_timeout', DEFAULT_WRITE_TIMEOUT_MS) };
}

function hostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port < 1 || port > 65535) throw badRequest('address must be host:port for socket_type tcp or udp');
  return { host: m[1], port };
}

function withTimeout<T>(ms: number, what: string, start: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    start((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    });
  });
}

/**
 * The `socket` device: each entry is written to a TCP or unix stream
 * socket, or sent as one UDP datagram. An entry counts as recorded once the
 * kernel has taken it within `write_timeout`; a failed write reconnects and
 * tries once more (Vault's behaviour). A peer that closes the connection is
 * noticed at once, so the next entry reconnects (and fails if nobody listens).
 */
export class SocketDevice implements AuditDevice {
  private stream: net.Socket | undefined;
  private udp: dgram.Socket | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly opts: SocketOptions) {}

  private connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const { socketType, address, writeTimeoutMs } = this.opts;
    if (socketType === 'udp') {
      const { host, port } = hostPort(address);
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      sock.on('error', () => this.dropUdp(sock));
      try {
        await withTimeout<void>(writeTimeoutMs, 'audit socket connect', (done) => sock.connect(port, host, () => done(null)));
      } catch (err) {
        sock.close();
        throw err;
      }
      this.udp = sock;
      return;
    }
    const target = socketType === 'unix' ? { path: address } : hostPort(address);
    const sock = net.connect(target as net.NetConnectOpts);
    sock.setNoDelay?.(true);
    await withTimeout<void>(writeTimeoutMs, 'audit socket connect', (done) => {
      sock.once('connect', () => done(null));
      sock.once('error', (err) => done(err));
    }).catch((err) => {
      sock.destroy();
      throw err;
    });
    const drop = () => {
      if (this.stream === sock) this.stream = undefined;
      sock.destroy();
    };
    sock.on('error', drop);
    sock.on('end', drop);
    sock.on('close', drop);
    // Nothing is read from an audit socket.
    sock.resume();
    this.stream = sock;
  }

  private dropUdp(sock: dgram.Socket): void {
    if (this.udp === sock) this.udp = undefined;
    try {
      sock.close();
    } catch {
      // closed already
    }
  }

  private async writeOnce(line: string): Promise<void> {
    if (!this.stream && !this.udp) await this.connect();
    const { writeTimeoutMs } = this.opts;
    if (this.udp) {
      const sock = this.udp;
      await withTimeout<void>(writeTimeoutMs, 'audit socket write', (done) => sock.send(line, (err) => done(err))).catch((err) => {
        this.dropUdp(sock);
        throw err;
      });
      return;
    }
    const sock = this.stream;
    if (!sock) throw new Error('audit socket: not connected');
    await withTimeout<void>(writeTimeoutMs, 'audit socket write', (done) => sock.write(line, (err) => done(err))).catch((err) => {
      if (this.stream === sock) this.stream = undefined;
      sock.destroy();
      throw err;
    });
  }

  private async write(line: string): Promise<void> {
    try {
      await this.writeOnce(line);
    } catch {
      await this.writeOnce(line);
    }
  }

  logRequest(line: string): Promise<void> {
    return this.write(line);
  }

  logResponse(line: string): Promise<void> {
    return this.write(line);
  }

  /** Opens the connection (enable's sanity check, and SIGHUP). */
  async reopen(): Promise<void> {
    await this.close();
    await this.connect();
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      // What is queued is flushed; a peer that does not take it within write_timeout loses it.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.writeTimeoutMs);
        stream.end(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      stream.destroy();
    }
    if (this.udp) this.dropUdp(this.udp);
  }
}
