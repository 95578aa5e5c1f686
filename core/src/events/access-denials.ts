import { authEvents, type AccessDeniedData, type EventService, type Principal, type RequestInfo } from '@wharf/sdk';
import type { Logger } from 'pino';

/**
 * Refused access (`auth.access.denied`), aggregated so that a client hammering a refused
 * operation cannot flood the event log and the audit table: per node, per (actor, client
 * address, operation) and window, the first refusal is recorded at once, and the refusals after
 * it in the window as one event with their count when the window ends. Keys are bounded: past
 * `maxKeys` in a window, new keys share one overflow summary (`actor` and address `*`). So a
 * node records at most 2 × maxKeys + 1 events per window, whatever the attacker sends.
 */

export interface AccessDenial {
  readonly principal: Principal | undefined;
  readonly info: Pick<RequestInfo, 'requestId' | 'ip' | 'userAgent'>;
  readonly operation: string;
  readonly resource: string;
  readonly status: number;
  readonly via: 'api' | 'v2' | 'token';
  readonly reason?: string | undefined;
}

export interface AccessDenialSettings {
  readonly windowSeconds: number;
  readonly maxKeys: number;
}

export type AccessDenialRecorder = ((denial: AccessDenial) => void) & { flush(): Promise<void>; close(): Promise<void> };

const MAX = { actor: 128, operation: 200, resource: 512, reason: 256 } as const;
const OVERFLOW = '*';

interface Pending {
  denial: AccessDenial;
  /** Refusals after the first one in this window, not recorded yet. */
  more: number;
}

export function accessDenialRecorder(events: () => EventService | undefined, settings: AccessDenialSettings, logger: Logger): AccessDenialRecorder {
  let window = new Map<string, Pending>();
  let timer: NodeJS.Timeout | undefined;

  const publish = async (denial: AccessDenial, count: number, aggregated: boolean, overflow = false): Promise<void> => {
    const service = events();
    if (!service || !service.hasSubscribers(authEvents.accessDenied)) return;
    const subject = overflow ? OVERFLOW : (denial.principal?.subject ?? 'anonymous').slice(0, MAX.actor);
    const data: AccessDeniedData = {
      operation: overflow ? OVERFLOW : denial.operation.slice(0, MAX.operation),
      resource: overflow ? OVERFLOW : denial.resource.slice(0, MAX.resource),
      status: denial.status,
      via: denial.via,
      count,
      aggregated,
      ...(denial.reason && !overflow ? { reason: denial.reason.slice(0, MAX.reason) } : {}),
    };
    try {
      await service.publish({
        type: authEvents.accessDenied,
        partition: `access:${subject}`,
        data,
        ...(denial.principal && !overflow ? { actor: { subject, kind: denial.principal.kind, provider: denial.principal.provider } } : {}),
        request: overflow
          ? { requestId: denial.info.requestId, ip: OVERFLOW, userAgent: undefined }
          : { requestId: denial.info.requestId, ip: denial.info.ip, userAgent: denial.info.userAgent },
      });
    } catch (err) {
      logger.error({ err, operation: data.operation }, 'could not record refused access');
    }
  };

  const flush = async (): Promise<void> => {
    const ended = window;
    window = new Map();
    if (timer) clearTimeout(timer);
    timer = undefined;
    await Promise.all([...ended].filter(([, p]) => p.more > 0).map(([key, p]) => publish(p.denial, p.more, true, key === OVERFLOW)));
  };

  const record = ((denial: AccessDenial) => {
    const key = `${denial.principal?.subject ?? ''}\u0000${denial.info.ip}\u0000${denial.operation}`;
    const seen = window.get(key) ?? (window.size >= settings.maxKeys ? window.get(OVERFLOW) : undefined);
    if (seen) {
      seen.more++;
      return;
    }
    if (window.size >= settings.maxKeys) {
      // Full: this refusal is counted in the window's overflow summary.
      window.set(OVERFLOW, { denial, more: 1 });
      return;
    }
    window.set(key, { denial, more: 0 });
    if (!timer) {
      timer = setTimeout(() => void flush(), settings.windowSeconds * 1000);
      timer.unref();
    }
    void publish(denial, 1, false);
  }) as AccessDenialRecorder;
  record.flush = flush;
  record.close = flush;
  return record;
}
