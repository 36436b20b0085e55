/**
 * The system backend: every sys/ path, declared with the route framework
 * like any engine. Paths are matched without the "sys/" prefix.
 */
import { FrameworkBackend } from '../../framework/index.ts';
import { lifecyclePaths } from './lifecycle.ts';
import { haPaths } from '../ha/sys.ts';
import { mountPaths } from './mounts.ts';
import { authPaths } from './auth.ts';
import { policyPaths } from './policies.ts';
import { recoveryPaths } from './recovery.ts';
import { internalPaths } from './internal.ts';
import { wrappingPaths } from './wrapping.ts';
import { auditPaths } from './audit.ts';
import { managedKeyPaths } from './managed-keys.ts';
import { metricsPaths } from './metrics.ts';
import type { SysRequest } from './request.ts';

export const sysBackend = new FrameworkBackend<SysRequest>([
  ...lifecyclePaths,
  ...haPaths,
  ...recoveryPaths,
  ...mountPaths,
  ...authPaths,
  ...policyPaths,
  ...internalPaths,
  ...wrappingPaths,
  ...auditPaths,
  ...managedKeyPaths,
  ...metricsPaths,
]);

/** Whether a sys path (below sys/, no trailing slash) is one of Vault's unauthenticated endpoints. */
export function isUnauthenticatedSysPath(path: string): boolean {
  return sysBackend.route(path)?.declaration.unauthenticated === true;
}

export { type SysRequest } from './request.ts';
