import type { TestServer } from '../../test/helpers/server.ts';
import type { LoopOptions } from '../closed-loop.ts';
import type { Figure } from '../report.ts';
import { expectOk } from '../servers.ts';
import { compareWithBareHttp } from './http-compare.ts';

/** `GET /v1/sys/health` on an unsealed server (200) against bare node http returning a body of the same size. */
export async function benchHealth(server: TestServer, loop: LoopOptions): Promise<Figure> {
  const sample = expectOk(await server.api.get('sys/health'), 'sys/health', 200);
  const request = () => ({ method: 'GET', path: '/v1/sys/health' });
  const figure = await compareWithBareHttp('health', 'GET /v1/sys/health', loop, server.api.addr, request, JSON.stringify(sample.body));
  return figure;
}
