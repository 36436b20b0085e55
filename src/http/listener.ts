import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { rewriteListVerb } from './list-verb.ts';

export interface ListenOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
}

export interface Listener {
  port: number;
  close(): Promise<void>;
}

/**
 * Accepts TCP (or TLS) connections itself and hands each, through the LIST
 * verb rewriter, to the fastify app's HTTP server, which never listens on a
 * port of its own.
 */
export async function listen(app: FastifyInstance, opts: ListenOptions): Promise<Listener> {
  await app.ready();
  const open = new Set<net.Socket>();
  const accept = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    app.server.emit('connection', rewriteListVerb(socket));
  };
  const server = opts.tls
    ? tls.createServer({ cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) }, accept)
    : net.createServer(accept);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
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
