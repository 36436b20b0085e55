import { TresorError } from '../errors.ts';

/** A request that reached an HA standby's own handlers (it serves none: they are forwarded). */
export const standbyError = () => new TresorError(503, 'node is in standby mode; the request must go to the active node');
