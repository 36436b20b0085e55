import type { SysRoute } from '../sys-routes.ts';

/** Rekey, recovery-key rekey and generate-root endpoints (see src/core/rekey.ts, generate-root.ts). */
export const recoveryRoutes: SysRoute[] = [];
