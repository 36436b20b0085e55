export { TokenStore, DEFAULT_TOKEN_TTL, type TokenStoreDeps, type TokenSpec, type RenewResult } from './token-store.ts';
export { type TokenEntry, isExpired } from './token-entry.ts';
export { SERVICE_TOKEN_PREFIX } from './token-ids.ts';
