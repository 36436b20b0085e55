import type { Core } from '../core.ts';
import type { Caller, UnsealedState } from '../unsealed-state.ts';
import type { FrameworkRequest, PathDeclaration } from '../../framework/index.ts';
import type { LogicalResponse } from '../../engines/types.ts';
import { sealedError } from '../errors.ts';

/** A request to the system backend (path inside sys/, e.g. "mounts/secret"). */
export interface SysRequest extends FrameworkRequest {
  core: Core;
  /** The client's IP address as the listener saw it (rate limits of the unauthenticated quorum endpoints). */
  remoteAddress?: string;
  /** Seconds asked for with X-Vault-Wrap-TTL (sys/wrapping/wrap needs it). */
  wrapTtlSeconds?: number;
  /** The client token as sent (unauthenticated paths that look at it: the OpenAPI document). */
  token?: string;
  /** Set for every path but the unauthenticated ones. */
  state?: UnsealedState;
  caller?: Caller;
}

export type SysPath = PathDeclaration<SysRequest>;

/** The unsealed state and caller of an authenticated sys request. */
export function authed(req: SysRequest): { state: UnsealedState; caller: Caller } {
  if (!req.state || !req.caller) throw sealedError();
  return { state: req.state, caller: req.caller };
}

/** Vault's older sys answers: `data`'s keys also at the top level of the envelope. */
export function sysData(data: Record<string, unknown>): LogicalResponse {
  return { data, dataAlsoAtTop: true };
}

/** A body sent as is, without the envelope (Vault's raw sys answers: seal-status, init, unseal...). */
export function raw(body: unknown, status = 200): LogicalResponse {
  return { rawBody: body, status };
}

export const noContent = (): LogicalResponse => ({ status: 204 });
