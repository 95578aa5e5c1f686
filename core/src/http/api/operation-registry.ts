import { KernelError, type ApiOperation, type ManagementApi } from '@wharf/sdk';

/**
 * The management API's operations, collected from the kernel and from plugins during
 * registration. Each keeps the id of the plugin that added it (for errors and the OpenAPI
 * document). Duplicate operation ids or method+path pairs fail boot, naming both owners.
 */

export interface RegisteredOperation {
  readonly owner: string;
  readonly operation: ApiOperation;
}

const OPERATION_ID = /^[a-z][A-Za-z0-9]*$/;
const PATH = /^(?:\/(?:[a-z0-9][a-z0-9-]*|\{[a-z][a-z0-9_]*\}))+$/;

export class OperationRegistry {
  private readonly operations: RegisteredOperation[] = [];
  private sealed = false;

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
    for (const other of this.operations) {
      if (other.operation.operationId === operation.operationId) throw refuse(`duplicates an operation id of ${other.owner}`);
      if (other.operation.method === operation.method && samePath(other.operation.path, operation.path)) {
        throw refuse(`duplicates ${operation.method} ${operation.path} of ${other.owner}`);
      }
    }
    this.operations.push({ owner, operation });
  }

  seal(): void {
    this.sealed = true;
  }

  list(): readonly RegisteredOperation[] {
    return this.operations;
  }
}

/** `/a/{x}` and `/a/{y}` are the same route. */
function samePath(a: string, b: string): boolean {
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  return shape(a) === shape(b);
}
