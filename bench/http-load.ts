import http from 'node:http';
import { closedLoop, type LoopOptions, type LoopResult } from './closed-loop.ts';

export interface BenchRequest {
  method: string;
  /** Path and query, e.g. `/v1/sys/health`. */
  path: string;
  /** JSON body, already serialised. */
  body?: Buffer;
  headers?: http.OutgoingHttpHeaders;
}

export interface HttpLoadOptions extends LoopOptions {
  /** Base address, `http://127.0.0.1:PORT`. */
  url: string;
  /** Builds the request for run-wide sequence number `seq`. */
  request: (seq: number) => BenchRequest;
}

/** Longest slice of an unexpected response body kept for the error message. */
const ERROR_BODY_CHARS = 200;

/**
 * Closed-loop HTTP load over one keep-alive Agent with exactly `concurrency`
 * sockets. A response counts as a success only with a 2xx status; anything
 * else (or a socket error) is a failure whose first instance is reported.
 */
export async function httpLoad(options: HttpLoadOptions): Promise<LoopResult> {
  const { hostname, port } = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    return await closedLoop(options, (_worker, seq) => send(agent, hostname, Number(port), options.request(seq)));
  } finally {
    agent.destroy();
  }
}

/** Sends one request and resolves when its response has been read in full; rejects on a non-2xx status. */
export function send(agent: http.Agent, host: string, port: number, request: BenchRequest): Promise<void> {
  const headers: http.OutgoingHttpHeaders = { ...request.headers };
  if (request.body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = request.body.length;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host, port, method: request.method, path: request.path, headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        res.resume();
        res.once('end', resolve);
      } else {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_CHARS);
          reject(new Error(`${request.method} ${request.path.split('?')[0]} → HTTP ${status}: ${text}`));
        });
      }
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(request.body);
  });
}
