/**
 * A route declared as data, as Vault's framework.Path: a pattern with named
 * captures, the fields it takes, and a handler per operation. Engines, auth
 * methods and sys are lists of these plus their handlers.
 */
import type { LogicalResponse, Operation } from '../engines/types.ts';
import type { FieldData, FieldSchemas } from './fields.ts';

/** What every request handed to a framework backend carries. */
export interface FrameworkRequest {
  operation: Operation;
  /** Path inside the backend (mount prefix removed), no leading slash. */
  path: string;
  /** Body fields merged over query parameters; JSON null already dropped. */
  data: Record<string, unknown>;
}

export type OperationHandler<R extends FrameworkRequest> = (req: R, fields: FieldData) => Promise<LogicalResponse>;

export interface OperationDeclaration<R extends FrameworkRequest> {
  handler: OperationHandler<R>;
  /** One line for help and OpenAPI. */
  summary?: string;
  description?: string;
}

export interface PathDeclaration<R extends FrameworkRequest> {
  /**
   * A regular expression over the whole path inside the backend (anchored for
   * you), with named groups for the captures: `keys/(?<name>\w+)`. Captures
   * become fields and must be declared in `fields`.
   */
  pattern: string;
  fields?: FieldSchemas;
  operations: Partial<Record<Operation, OperationHandler<R> | OperationDeclaration<R>>>;
  /**
   * Whether the write's target exists: false makes a write a `create` for the
   * ACL and the handler, true an `update`. Without one every write is `update`.
   */
  existenceCheck?: (req: R, fields: FieldData) => Promise<boolean>;
  /** Any field is accepted as data (KV secrets): no unknown-field warning. */
  takesArbitraryInput?: boolean;
  /** Needs no token (Vault's PathsSpecial.Unauthenticated). */
  unauthenticated?: boolean;
  /** Needs `sudo` on the path besides the operation's capability (Vault's PathsSpecial.Root). */
  sudo?: boolean;
  /** Needs a valid token, but the handler filters by the caller's ACL instead of one check on the path. */
  authorizesItself?: boolean;
  /** One line: what the path is for. */
  synopsis: string;
  description?: string;
}

/** Vault's framework.GenericNameRegex: a capture of word characters with "-" and "." inside. */
export const genericName = (name: string) => String.raw`(?<${name}>\w(?:[\w.-]*\w)?)`;
/** A capture of the rest of the path, slashes included (framework.MatchAllRegex). */
export const matchAll = (name: string) => `(?<${name}>.*)`;
/** An optional trailing "/segment" capture (framework.OptionalParamRegex). */
export const optionalSegment = (name: string) => `(?:/(?<${name}>[^/]+))?`;
