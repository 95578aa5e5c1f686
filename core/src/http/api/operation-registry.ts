import { KernelError, type ApiOperation, type ManagementApi, type TSchema } from '@wharf/sdk';
import { compileRoutes, templateParams, type ApiRoute } from './api-route.js';

/**
 * The management API's operations, collected from the kernel and from plugins during
 * registration. Each keeps the id of the plugin that added it (for errors and the OpenAPI
 * document). Duplicate operation ids or method+path pairs fail boot, naming both owners; so do
 * path parameters the `params` schema does not match. Sealing compiles every schema.
 */

export interface RegisteredOperation {
  readonly owner: string;
  readonly operation: ApiOperation;
}

const OPERATION_ID = /^[a-z][A-Za-z0-9]*$/;
const SORT_FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;
const PATH = /^(?:\/(?:[a-z0-9][a-z0-9-]*|\{[a-z][a-z0-9_]*\}))+$/;

export class OperationRegistry {
  private readonly operations: RegisteredOperation[] = [];
  private sealed = false;
  private compiled: ApiRoute[] | undefined;

  /** The `ctx.api` view for one owner (a plugin id, or `kernel`). */
  viewFor(owner: string): ManagementApi {
    return { operation: (op: ApiOperation) => this.add(owner, op) } as ManagementApi;
  }

  add(owner: string, operation: ApiOperation): void {
    const where = `${owner === 'kernel' ? 'the kernel' : `plugin "${owner}"`}: api operation "${String(operation?.operationId)}"`;
    const refuse = (why: string) => new KernelError('REG_ERR_PLUGIN_REGISTER', `${where} ${why}`, owner === 'kernel' ? {} : { plugin: owner });
    if (this.sealed) throw refuse('was added after registration; add operations in register()');
    if (!OPERATION_ID.test(operation.operationId ?? '')) throw refuse('needs a camelCase operationId');
    if (!PATH.test(operation.path ?? '')) throw refuse(`has an invalid path "${operation.path}" (lowercase segments and {param} templates)`);
    if (typeof operation.handler !== 'function') throw refuse('needs a handler');
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(operation.method)) throw refuse(`has an unknown method "${String(operation.method)}"`);
    const names = templateParams(operation.path);
    if (new Set(names).size !== names.length) throw refuse(`repeats a parameter in ${operation.path}`);
    if (operation.params) {
      const declared = objectKeys(operation.params);
      if (!declared) throw refuse('needs an object schema for params');
      const missing = names.filter((n) => !declared.includes(n));
      const extra = declared.filter((n) => !names.includes(n));
      if (missing.length > 0 || extra.length > 0) {
        throw refuse(`params must declare exactly the path parameters of ${operation.path} (${[...missing.map((n) => `missing ${n}`), ...extra.map((n) => `unknown ${n}`)].join(', ')})`);
      }
    }
    if (operation.query && !objectKeys(operation.query)) throw refuse('needs an object schema for query');
    if (operation.list && operation.query && objectKeys(operation.query)?.some((k) => ['page', 'page_size', 'q'].includes(k))) {
      throw refuse('declares page, page_size or q in query; the kernel owns them on list operations');
    }
    if (operation.list && operation.sorts !== undefined) {
      const sorts: unknown = operation.sorts;
      if (!Array.isArray(sorts) || sorts.length === 0 || !sorts.every((f) => typeof f === 'string' && SORT_FIELD.test(f)) || new Set(sorts).size !== sorts.length) {
        throw refuse('needs sorts to be distinct field names (letters, digits, _; starting with a letter)');
      }
      if (operation.query && objectKeys(operation.query)?.includes('sort')) throw refuse('declares sort in query and sorts; the kernel owns sort when sorts is set');
    }
    if (!operation.list && operation.body && operation.method === 'GET') throw refuse('is a GET with a body');
    if (operation.list && (operation.method !== 'GET' || !operation.response)) throw refuse('is a list: it must be a GET with a response item schema');
    if ('produces' in operation) {
      if (operation.method !== 'GET' || operation.list || !Array.isArray(operation.produces) || operation.produces.length === 0) {
        throw refuse('streams: it must be a GET (not a list) naming at least one media type in produces');
      }
    }
    for (const other of this.operations) {
      if (other.operation.operationId === operation.operationId) throw refuse(`duplicates an operation id of ${other.owner}`);
      if (other.operation.method === operation.method && samePath(other.operation.path, operation.path)) {
        throw refuse(`duplicates ${operation.method} ${operation.path} of ${other.owner}`);
      }
    }
    this.operations.push({ owner, operation });
  }

  /** Ends registration and compiles every operation's schemas (a bad schema fails the boot). */
  seal(): void {
    this.sealed = true;
    this.compiled ??= compileRoutes(this.operations);
  }

  /** The operations ready to serve, most specific path first (after {@link seal}). */
  routes(): readonly ApiRoute[] {
    if (!this.compiled) throw new KernelError('REG_ERR_PLUGIN_SEALED', 'api routes are only ready once registration ended');
    return this.compiled;
  }

  list(): readonly RegisteredOperation[] {
    return this.operations;
  }
}

/** Property names of an object schema, or `undefined` when it is not one. */
function objectKeys(schema: TSchema): string[] | undefined {
  const s = schema as { type?: unknown; properties?: unknown };
  if (s.type !== 'object') return undefined;
  return typeof s.properties === 'object' && s.properties !== null ? Object.keys(s.properties) : [];
}

/** `/a/{x}` and `/a/{y}` are the same route. */
function samePath(a: string, b: string): boolean {
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  return shape(a) === shape(b);
}
