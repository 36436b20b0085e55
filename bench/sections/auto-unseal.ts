import type { TestServer } from '../../test/helpers/server.ts';
import { SOFTHSM_LIB, type SoftHsmToken } from '../../test/helpers/softhsm.ts';
import { runJsonChild } from '../children.ts';
import type { RawHsmInput, RawOpenResult } from '../hsm-raw.ts';
import { latencyFigure, type Figure } from '../report.ts';
import { HSM_KEY_LABEL, hsmServerEnv, timeAutoUnseal } from '../servers.ts';
import { median } from '../stats.ts';

/**
 * Restarts the (stopped) HSM-sealed server `rounds` times and times auto-
 * unseal from process start and from the banner; ceiling: a cold process's
 * raw pkcs11js library load + C_Initialize + C_OpenSession + C_Login + key
 * lookup + one C_Decrypt on the same token, in `rounds` fresh child processes.
 */
export async function benchAutoUnseal(stopped: TestServer, token: SoftHsmToken, rounds: number): Promise<Figure[]> {
  const timings = [];
  for (let i = 0; i < rounds; i++) timings.push(await timeAutoUnseal(stopped, hsmServerEnv(token)));

  const input: RawHsmInput = { lib: SOFTHSM_LIB, tokenLabel: token.label, pin: token.pin, keyLabel: HSM_KEY_LABEL, mode: 'open' };
  const opens: RawOpenResult[] = [];
  for (let i = 0; i < rounds; i++) opens.push(await runJsonChild<RawOpenResult>('./hsm-raw.ts', input, token.env));
  const ceiling = { label: 'raw pkcs11js init+session+login+decrypt', value: median(opens.map((o) => o.totalMs)) };
  const note = `median of ${rounds}`;

  return [
    latencyFigure('unseal.auto.process', 'HSM auto-unseal, process start → unsealed', median(timings.map((t) => t.startToUnsealedMs)), ceiling, note),
    latencyFigure('unseal.auto.banner', 'HSM auto-unseal, banner → unsealed', median(timings.map((t) => t.bannerToUnsealedMs)), ceiling, note),
  ];
}
