import crypto from 'node:crypto';
import type { TestServer } from '../../test/helpers/server.ts';
import { closedLoop, type LoopOptions } from '../closed-loop.ts';
import { httpLoad, type BenchRequest } from '../http-load.ts';
import { rateFigure, type Row } from '../report.ts';
import { expectOk } from '../servers.ts';
import { SCRYPT_PARAMS } from '../../src/credential/userpass/password.ts';
import { compareWithBareHttp, loopNote } from './http-compare.ts';

/**
 * Logins per second: userpass beside bare scrypt with the same parameters
 * (in this process, on libuv's pool as the server uses it: the cost of the
 * hash alone), and AppRole beside bare node http with a response of the
 * same size. The login rate limit is off for these mounts. Every login
 * stores a token, so both include a token write.
 */
export async function benchAuth(server: TestServer, rootToken: string, loop: LoopOptions): Promise<Row[]> {
  const labels = {
    userpass: 'userpass login (scrypt N=2^15, r=8, p=1)',
    approle: 'AppRole login (role_id + secret_id)',
    tokenCreate: 'auth/token/create (root parent, 1h TTL)',
  };
  const api = server.api;
  const setup: Array<[string, string, unknown]> = [
    ['sys/auth/userpass', 'enable userpass', { type: 'userpass', options: { login_rate_limit: '0' } }],
    ['auth/userpass/users/bench', 'create user', { password: 'bench-password', token_ttl: '1h' }],
    ['sys/auth/approle', 'enable approle', { type: 'approle', options: { login_rate_limit: '0' } }],
    ['auth/approle/role/bench', 'create role', { token_ttl: '1h' }],
  ];
  let roleId: string;
  let secretId: string;
  try {
    for (const [path, what, body] of setup) expectOk(await api.call('POST', path, body, rootToken), what);
    roleId = expectOk(await api.call('GET', 'auth/approle/role/bench/role-id', undefined, rootToken), 'role-id').body.data.role_id;
    secretId = expectOk(await api.call('POST', 'auth/approle/role/bench/secret-id', {}, rootToken), 'secret-id').body.data.secret_id;
  } catch (err) {
    const skipped = `auth methods unavailable: ${(err as Error).message}`;
    return [
      { id: 'auth.login.userpass', label: labels.userpass, skipped },
      { id: 'auth.login.approle', label: labels.approle, skipped },
      { id: 'auth.token.create', label: labels.tokenCreate, skipped },
    ];
  }

  // The ceiling of a userpass login: scrypt alone, with the same parameters and concurrency.
  const salt = crypto.randomBytes(16);
  const params = { ...SCRYPT_PARAMS, maxmem: 256 * SCRYPT_PARAMS.N * SCRYPT_PARAMS.r };
  const scrypt = await closedLoop(loop, () => new Promise<void>((resolve, reject) => {
    crypto.scrypt('bench-password', salt, 32, params, (err) => (err ? reject(err) : resolve()));
  }));

  const userpassBody = Buffer.from(JSON.stringify({ password: 'bench-password' }));
  const userpassRequest = (): BenchRequest => ({ method: 'POST', path: '/v1/auth/userpass/login/bench', body: userpassBody });
  const userpass = await httpLoad({ ...loop, url: api.addr, request: userpassRequest });
  const rows: Row[] = [
    rateFigure('auth.login.userpass', labels.userpass, 'req/s', userpass.perSecond, {
      label: 'bare scrypt, same parameters', value: scrypt.perSecond, unit: 'ops/s',
    }, loopNote(userpass)),
  ];

  const approleBody = { role_id: roleId, secret_id: secretId };
  const sample = expectOk(await api.call('POST', 'auth/approle/login', approleBody, ''), 'approle login');
  const approleBytes = Buffer.from(JSON.stringify(approleBody));
  const approleRequest = (): BenchRequest => ({ method: 'POST', path: '/v1/auth/approle/login', body: approleBytes });
  rows.push(await compareWithBareHttp('auth.login.approle', labels.approle, loop, api.addr, approleRequest, JSON.stringify(sample.body)));

  // Token creation: one stored entry, accessor and parent index per request.
  const createBody = { ttl: '1h', policies: ['default'] };
  const created = expectOk(await api.call('POST', 'auth/token/create', createBody, rootToken), 'token create');
  const createBytes = Buffer.from(JSON.stringify(createBody));
  const createRequest = (): BenchRequest => ({ method: 'POST', path: '/v1/auth/token/create', body: createBytes, headers: { 'x-vault-token': rootToken } });
  rows.push(await compareWithBareHttp('auth.token.create', labels.tokenCreate, loop, api.addr, createRequest, JSON.stringify(created.body)));
  return rows;
}
