/**
 * The listener options `disable_unauthed_rekey_endpoints` and
 * `disable_unauthed_generate_root_endpoints` (OpenBao's names): a listener
 * can refuse the quorum endpoints that need no token, so that clients able
 * to reach it cannot start, cancel or feed a rekey or a root generation.
 * The sudo-protected backup endpoints are not affected. Both default to
 * false, as Vault (which has neither option) always serves these endpoints;
 * OpenBao defaults them to true.
 */
import { TresorError } from '../core/errors.ts';

export interface UnauthedEndpointOptions {
  disableUnauthedRekeyEndpoints?: boolean;
  disableUnauthedGenerateRootEndpoints?: boolean;
}

const REKEY_PATHS = /^sys\/(?:rekey|rekey-recovery-key)\/(?:init|update|verify)$/;
const GENERATE_ROOT_PATHS = /^sys\/generate-root(?:\/(?:attempt|update))?$/;

/**
 * The refusal for `path` (below /v1/, no trailing slash) when the listener
 * disables it: 405, the status OpenBao answers there, with a message naming
 * the option. Undefined when the path is served.
 */
export function disabledUnauthedEndpoint(path: string, opts: UnauthedEndpointOptions): TresorError | undefined {
  if (opts.disableUnauthedRekeyEndpoints && REKEY_PATHS.test(path)) {
    return new TresorError(405, 'the unauthenticated rekey endpoints are disabled on this listener (disable_unauthed_rekey_endpoints)');
  }
  if (opts.disableUnauthedGenerateRootEndpoints && GENERATE_ROOT_PATHS.test(path)) {
    return new TresorError(
      405,
      'the unauthenticated generate-root endpoints are disabled on this listener (disable_unauthed_generate_root_endpoints)',
    );
  }
  return undefined;
}
