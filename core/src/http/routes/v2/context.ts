import type { ParameterizedContext } from 'koa';
import type { KernelHooks, Principal, RequestInfo, StorageDriver } from '@wharf/sdk';
import type { Logger } from 'pino';
import type { KernelAuth } from '../../../auth/kernel-auth.js';
import type { EventRecorder } from '../../../events/events-runtime.js';
import type { TokenAuth } from '../../../auth/token-auth.js';
import type { MetadataStore } from '../../../metadata/types.js';
import type { ManifestService } from '../../../registry/manifest-service.js';
import type { UploadService } from '../../../registry/upload-service.js';

/** What the kernel hands the OCI routes. */
export interface V2Deps {
  readonly hooks: KernelHooks;
  readonly storage: StorageDriver;
  readonly metadata: MetadataStore;
  readonly registry: {
    readonly deleteEnabled: boolean;
    readonly maxManifestBytes: number;
    readonly uploadLeaseMs: number;
    readonly maxOpenUploadsPerRepository: number;
    readonly maxOpenUploadsPerUser: number;
  };
  readonly logger: Logger;
  readonly publicUrl: string;
  /** The kernel's one authenticator (credential cache, failed-login slowdown), for Basic credentials. */
  readonly auth: KernelAuth;
  /** Durable events: the write services record them with their changes; pulls are batched. */
  readonly events: EventRecorder;
  /** The kernel's token auth, when `token.enabled`. */
  readonly token?: TokenAuth | undefined;
}

/** Request state the kernel's middleware sets before the routes run. */
export interface V2State {
  requestId: string;
  principal: Principal;
  log?: Logger;
  /** The matched endpoint's route template, for the request observation hooks. */
  route?: string;
}

export type V2Context = ParameterizedContext<V2State>;

/** Everything a route handler needs: the request, its matched names, and the services. */
export interface RouteArgs {
  readonly ctx: V2Context;
  readonly name: string;
  readonly params: readonly string[];
  readonly services: V2Services;
}

export interface V2Services {
  readonly deps: V2Deps;
  readonly manifests: ManifestService;
  readonly uploads: UploadService;
}

export function requestInfo(ctx: V2Context): RequestInfo {
  return {
    requestId: ctx.state.requestId,
    ip: ctx.ip,
    method: ctx.method,
    path: ctx.path,
    userAgent: ctx.get('user-agent') || undefined,
  };
}

export function actorOf(ctx: V2Context) {
  return { principal: ctx.state.principal, request: requestInfo(ctx) };
}

/** The request log, or the kernel log when the kernel set none. */
export function logOf(ctx: V2Context, deps: V2Deps): Logger {
  return ctx.state.log ?? deps.logger;
}

/**
 * Fires an in-process event hook without making the client wait or fail: these hooks are
 * notifications for observers in this node (caches, metrics), and a broken listener must not
 * break a push. What must not be lost goes through the durable events instead.
 */
export function emit<E>(hook: { promise(event: E): Promise<void> }, event: E, log: Logger, name: string): void {
  hook.promise(event).catch((err: unknown) => log.error({ err, event: name }, 'event listener failed'));
}

/**
 * Ends a response with `status` and an empty body. (Koa turns `body = null` into a 204, so the
 * body is an empty string, sent without a content type.)
 */
export function respondEmpty(ctx: V2Context, status: number, headers: Record<string, string> = {}): void {
  ctx.status = status;
  for (const [key, value] of Object.entries(headers)) ctx.set(key, value);
  ctx.body = '';
  ctx.remove('Content-Type');
}
