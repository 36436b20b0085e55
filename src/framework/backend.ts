/**
 * Runs declared paths: matches a request to its path, decodes its fields
 * once against the schema, picks the operation's handler, and adds Vault's
 * warning for parameters the path ignored. Also answers help and the
 * OpenAPI description from the same declarations.
 */
import { TresorError } from '../core/errors.ts';
import type { LogicalBackend, LogicalRequest, LogicalResponse, Operation } from '../engines/types.ts';
import { FieldData, type FieldSchemas } from './fields.ts';
import type { FrameworkRequest, OperationDeclaration, OperationHandler, PathDeclaration } from './path.ts';
import { helpText, openApiPathItems, type OpenApiPathItem } from './openapi.ts';

interface CompiledPath<R extends FrameworkRequest> {
  declaration: PathDeclaration<R>;
  regex: RegExp;
  fields: FieldSchemas;
}

export interface RouteMatch<R extends FrameworkRequest> {
  declaration: PathDeclaration<R>;
  captures: Record<string, string>;
}

/** Vault's answer to an operation a known path does not support. */
export const unsupportedOperation = () => new TresorError(405, 'unsupported operation');

const EMPTY_FIELDS: FieldSchemas = {};
const ROUTE_CACHE_LIMIT = 2048;

export class FrameworkBackend<R extends FrameworkRequest> {
  private readonly paths: CompiledPath<R>[];
  /** path -> its match (null: none); bounded, oldest dropped first. */
  private readonly routes = new Map<string, RouteMatch<R> | null>();

  constructor(declarations: PathDeclaration<R>[]) {
    this.paths = declarations.map((declaration) => {
      const regex = new RegExp(`^(?:${declaration.pattern})$`, 's');
      const fields = declaration.fields ?? EMPTY_FIELDS;
      for (const name of captureNames(declaration.pattern)) {
        if (!fields[name]) throw new Error(`path "${declaration.pattern}": capture "${name}" has no field declaration`);
      }
      return { declaration, regex, fields };
    });
  }

  /** The declared path a request path falls under, with its captures; undefined when none. */
  route(path: string): RouteMatch<R> | undefined {
    // The core asks several times per request (existence, sudo, handle): remember recent answers.
    const known = this.routes.get(path);
    if (known !== undefined) return known ?? undefined;
    let found: RouteMatch<R> | null = null;
    for (const compiled of this.paths) {
      const m = compiled.regex.exec(path);
      if (m) {
        found = { declaration: compiled.declaration, captures: Object.freeze(definedCaptures(m.groups)) };
        break;
      }
    }
    if (this.routes.size >= ROUTE_CACHE_LIMIT) this.routes.delete(this.routes.keys().next().value!);
    this.routes.set(path, found);
    return found ?? undefined;
  }

  /**
   * Whether a write to the request's path finds its target; undefined when
   * the path has no existence check (every write is then an update).
   */
  async existenceCheck(req: R): Promise<boolean | undefined> {
    const match = this.route(req.path);
    const check = match?.declaration.existenceCheck;
    if (!match || !check) return undefined;
    return check(req, new FieldData(match.declaration.fields ?? EMPTY_FIELDS, req.data, match.captures));
  }

  /** Whether create and update run different handlers (so the existence check matters beyond the ACL). */
  distinguishesCreate(path: string): boolean {
    const ops = this.route(path)?.declaration.operations;
    return !!ops && ops.create !== undefined && ops.update !== undefined && ops.create !== ops.update;
  }

  /** Handles a request; null when no declared path matches (the caller answers 404). */
  async handle(req: R): Promise<LogicalResponse | null> {
    const match = this.route(req.path);
    if (!match) return null;
    const { declaration, captures } = match;
    const handler = pickHandler(declaration, req.operation);
    if (!handler) throw unsupportedOperation();
    const schema = declaration.fields ?? EMPTY_FIELDS;
    const fields = new FieldData(schema, req.data, captures);
    const res = await handler(req, fields);
    if (!declaration.takesArbitraryInput && !isNoContent(res)) {
      const ignored = FieldData.unknownFields(schema, req.data);
      if (ignored.length > 0) {
        res.warnings = [...(res.warnings ?? []), `Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`];
      }
    }
    return res;
  }

  /** Vault's `?help=1` answer for a path: its text and its OpenAPI item; null when no path matches. */
  help(path: string, mountPoint: string): { help: string; openapi: Record<string, unknown> } | null {
    const match = this.route(path);
    if (!match) return null;
    return {
      help: helpText(`${mountPoint}${path}`, match.declaration),
      openapi: { openapi: '3.0.2', paths: openApiPathItems(mountPoint, [match.declaration]) },
    };
  }

  /** The OpenAPI path items of every declared path, under `mountPoint` (e.g. "secret/"). */
  openApiPaths(mountPoint: string): Record<string, OpenApiPathItem> {
    return openApiPathItems(mountPoint, this.paths.map((p) => p.declaration));
  }
}

/** The operation's handler; create and update stand in for each other when only one is declared. */
function pickHandler<R extends FrameworkRequest>(declaration: PathDeclaration<R>, operation: Operation): OperationHandler<R> | undefined {
  const ops = declaration.operations;
  let found: OperationHandler<R> | OperationDeclaration<R> | undefined = ops[operation];
  if (!found && operation === 'create') found = ops.update;
  if (!found && operation === 'update') found = ops.create;
  if (!found) return undefined;
  return typeof found === 'function' ? found : found.handler;
}

function isNoContent(res: LogicalResponse): boolean {
  return res.status === 204 || (!res.data && !res.auth && !res.login && !res.warnings?.length && res.rawBody === undefined);
}

function definedCaptures(groups: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (groups) for (const k in groups) if (groups[k] !== undefined) out[k] = groups[k];
  return out;
}

function captureNames(pattern: string): string[] {
  return [...pattern.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((m) => m[1]);
}

/**
 * A secrets engine or auth method built from declarations: the mount
 * table's LogicalBackend, with the engine's type name.
 */
export function defineBackend(
  type: string,
  declarations: PathDeclaration<LogicalRequest>[],
  hooks: { cleanup?: () => Promise<void>; periodic?: LogicalBackend['periodic'] } = {},
): LogicalBackend {
  const framework = new FrameworkBackend(declarations);
  return {
    type,
    handle: (req) => framework.handle(req),
    existenceCheck: (req) => framework.existenceCheck(req),
    distinguishesCreate: (path) => framework.distinguishesCreate(path),
    route: (path) => framework.route(path),
    help: (path, mountPoint) => framework.help(path, mountPoint),
    openApiPaths: (mountPoint) => framework.openApiPaths(mountPoint),
    ...(hooks.cleanup ? { cleanup: hooks.cleanup } : {}),
    ...(hooks.periodic ? { periodic: hooks.periodic } : {}),
  };
}
