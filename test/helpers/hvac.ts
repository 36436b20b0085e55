/**
 * Runs the hvac compatibility scripts (test/compat/hvac/*.py) with Debian's
 * python3-hvac, which is installed for /usr/bin/python3 only, and checks
 * the outcomes they record.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { ROOT } from './server.ts';

export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPTS = path.join(ROOT, 'test', 'compat', 'hvac');

export interface HvacTarget {
  addr: string;
  /** The client token; none (empty) when omitted. */
  token?: string;
}

/** `python3 <script>.py <kase>` against `target`; resolves to the JSON it prints, rejects with its traceback. */
export function runHvac(script: string, kase: string, target: HvacTarget, args: Record<string, unknown> = {}): Promise<any> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    VAULT_ADDR: target.addr,
    COMPAT_TOKEN: target.token ?? '',
    COMPAT_ARGS: JSON.stringify(args),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  return new Promise((resolve, reject) => {
    execFile(SYSTEM_PYTHON, [path.join(SCRIPTS, `${script}.py`), kase], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`hvac ${script}.py ${kase} failed (${err.code ?? err.signal}):\n${stderr || err.message}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`hvac ${script}.py ${kase} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** What outcome() recorded for a call that should have failed. */
export interface HvacError {
  type: string;
  status: number | null;
  errors: string[] | null;
  hvac_errors: string[] | null;
  body: any;
}

/** Asserts that `outcome` is hvac raising for HTTP `status`, and (when given) that Vault's errors are exactly `errors`. */
export function assertVaultError(outcome: any, status: number, errors?: string[] | RegExp, what = 'the call'): HvacError {
  assert.ok(outcome && 'error' in outcome, `${what} should fail with ${status}, got ${JSON.stringify(outcome)}`);
  const e = outcome.error as HvacError;
  assert.equal(e.status, status, `${what}: ${JSON.stringify(e)}`);
  if (errors instanceof RegExp) {
    assert.ok(Array.isArray(e.errors) && e.errors.some((m) => errors.test(m)), `${what}: errors ${JSON.stringify(e.errors)} should match ${errors}`);
  } else if (errors) {
    assert.deepEqual(e.errors, errors, `${what}: ${JSON.stringify(e)}`);
  }
  return e;
}

/** Asserts that `outcome` succeeded and returns its value. */
export function ok(outcome: any, what = 'the call'): any {
  assert.ok(outcome && 'ok' in outcome, `${what} should succeed, got ${JSON.stringify(outcome)}`);
  return outcome.ok;
}

/** Asserts an empty-bodied answer (hvac hands back the Response for 204). */
export function assertNoContent(value: any, what = 'the call'): void {
  assert.equal(value?.status, 204, `${what} should answer 204, got ${JSON.stringify(value)}`);
}
