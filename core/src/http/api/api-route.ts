import { KernelError, Type, type ApiOperation, type TSchema } from '@wharf/sdk';
import type { RegisteredOperation } from './operation-registry.js';
import { RequestValidators, type RequestValidator } from './request-validation.js';

/**
 * An operation made ready to serve: its path template as a pattern, and its schemas compiled.
 * Built once when registration ends, so a schema ajv cannot compile fails the boot and names
 * the plugin, instead of failing the first request.
 */

export interface ApiRoute {
  readonly owner: string;
  readonly operation: ApiOperation;
  readonly pattern: RegExp;
  /** Path parameter names, in template order. */
  readonly paramNames: readonly string[];
  readonly validateParams: RequestValidator | undefined;
  readonly validateQuery: RequestValidator | undefined;
  readonly validateBody: RequestValidator | undefined;
}

const TEMPLATE_PARAM = /\{([a-z][a-z0-9_]*)\}/g;

/** Parameter names of a path template, in order. */
export function templateParams(path: string): string[] {
  return [...path.matchAll(TEMPLATE_PARAM)].map((m) => m[1] as string);
}

function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith('{') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Literal segments win over parameters, segment by segment: `/users/current` is tried before
 * `/users/{username}`, whatever order the plugins registered them in.
 */
function compareSpecificity(a: string, b: string): number {
  const sa = a.split('/');
  const sb = b.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = (sa[i] as string).startsWith('{');
    const pb = (sb[i] as string).startsWith('{');
    if (pa !== pb) return pa ? 1 : -1;
  }
  return sb.length - sa.length;
}

/** A string schema for each template parameter an operation left undeclared. */
function paramsSchemaOf(operation: ApiOperation, names: readonly string[]): TSchema | undefined {
  if (operation.params) return operation.params;
  if (names.length === 0) return undefined;
  return Type.Object(Object.fromEntries(names.map((n) => [n, Type.String({ minLength: 1 })])));
}

export function compileRoutes(operations: readonly RegisteredOperation[]): ApiRoute[] {
  const validators = new RequestValidators();
  const routes = operations.map(({ owner, operation }): ApiRoute => {
    const paramNames = templateParams(operation.path);
    try {
      const params = paramsSchemaOf(operation, paramNames);
      return {
        owner,
        operation,
        pattern: patternOf(operation.path),
        paramNames,
        validateParams: params ? validators.compile('path parameter', params) : undefined,
        validateQuery: operation.query ? validators.compile('query parameter', operation.query) : undefined,
        validateBody: !operation.list && operation.body ? validators.compile('body', operation.body) : undefined,
      };
    } catch (err) {
      const who = owner === 'kernel' ? 'the kernel' : `plugin "${owner}"`;
      throw new KernelError('REG_ERR_PLUGIN_REGISTER', `${who}: api operation "${operation.operationId}" has a schema that cannot be compiled: ${(err as Error)?.message ?? String(err)}`, {
        ...(owner === 'kernel' ? {} : { plugin: owner }),
        cause: err,
      });
    }
  });
  return routes.sort((a, b) => compareSpecificity(a.operation.path, b.operation.path));
}
