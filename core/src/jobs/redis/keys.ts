/**
 * Ids and Redis keys of the Redis backend. A job id is `<type>:<BullMQ id>`: `get(id)` and
 * `cancel(id)` find the queue (one per type) from the id alone. Types cannot hold `:`, so the
 * first `:` splits; BullMQ's own ids may hold more (`repeat:<scheduler>:<ms>`).
 */

export function jobId(type: string, bullId: string): string {
  return `${type}:${bullId}`;
}

export function parseJobId(id: string): { type: string; bullId: string } | undefined {
  const at = typeof id === 'string' ? id.indexOf(':') : -1;
  if (at <= 0 || at === id.length - 1) return undefined;
  return { type: id.slice(0, at), bullId: id.slice(at + 1) };
}

/** Wharf's own keys, next to BullMQ's `<prefix>:<queue>:...` (no type starts with `_`). */
export function wharfKeys(prefix: string) {
  const base = `${prefix}:_wharf`;
  return {
    /** Hash: idempotency key → id of the job holding it (any type). */
    keys: `${base}:keys`,
    /** Hash: schedule name → job type (BullMQ schedulers live per queue). */
    schedules: `${base}:schedules`,
    /** Hash: schedule name → what it was last set to (cron, type, payload, options), to skip unchanged upserts. */
    scheduleSpecs: `${base}:schedule-specs`,
    /** String, with expiry: held while one node sets a schedule. */
    scheduleLock: (name: string) => `${base}:schedule-lock:${name}`,
    /** Pub/sub channel: ids of running jobs to cancel, heard by every node. */
    cancelChannel: `${base}:cancel`,
    /** String, with expiry: a cancel asked for a running job (seen by a node that starts it late). */
    cancelFlag: (id: string) => `${base}:cancel:${id}`,
    /** Sorted set (by time) and hash of jobs cancelled while queued (BullMQ removes those). */
    cancelledIndex: (type: string) => `${base}:cancelled:${type}`,
    cancelledData: (type: string) => `${base}:cancelled:${type}:data`,
  };
}
