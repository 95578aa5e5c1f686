import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { RegistryError, type StorageDriver } from '@wharf/sdk';
import type { MetadataStore } from '../../metadata/types.js';

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: the database and the storage
 * answer too (readiness); 503 when either fails, so a load balancer stops sending traffic.
 */

const CHECK_TIMEOUT_MS = 5000;

async function check(name: string, fn: () => Promise<void>, log: Logger): Promise<'ok' | 'failing'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} check timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    log.warn({ err, check: name }, 'readiness check failed');
    return 'failing';
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: { storage: StorageDriver; metadata: MetadataStore; logger: Logger }): Middleware<{ log?: Logger; route?: string }> {
  return async function healthMiddleware(ctx, next) {
    if (ctx.path !== '/healthz' && ctx.path !== '/readyz') return next();
    ctx.state.route = ctx.path;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      throw new RegistryError('UNSUPPORTED', 'method not allowed', { status: 405, headers: { Allow: 'GET, HEAD' } });
    }
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    const log = ctx.state.log ?? deps.logger;
    const [database, storage] = await Promise.all([
      check('database', () => deps.metadata.ping(), log),
      check('storage', () => deps.storage.healthCheck(), log),
    ]);
    const ready = database === 'ok' && storage === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks: { database, storage } };
  };
}
