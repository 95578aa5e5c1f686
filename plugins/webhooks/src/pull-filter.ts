/**
 * Which projects have an enabled policy for a (high-rate) event type, so the fan-out can
 * acknowledge a pull event of any other project without a query: pulls are most events, and
 * most projects have no PULL_ARTIFACT policy. The answer is used only for events that occurred
 * before it was read (clocks in sync, as the kernel's leases assume), so it never misses a
 * policy that existed when the pull happened: an event newer than the answer reads it again,
 * once for all the events that arrive while that read runs (a batch of pulls costs one query).
 */
export class SubscribedProjects {
  #projects: ReadonlySet<string> = new Set();
  /** When the current answer was read (its query started); -Infinity: never. */
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;

  constructor(
    private readonly read: () => Promise<ReadonlySet<string>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `project` may have a policy for an event that occurred at `occurredAt` (epoch ms). */
  async mayHave(project: string, occurredAt: number): Promise<boolean> {
    // An event from a clock ahead of this node's: no answer can be new enough, so ask.
    if (occurredAt > this.now()) return true;
    while (this.#readAt < occurredAt) await this.refresh();
    return this.#projects.has(project);
  }

  private refresh(): Promise<void> {
    this.#reading ??= (async () => {
      const at = this.now();
      const projects = await this.read();
      if (at > this.#readAt) {
        this.#projects = projects;
        this.#readAt = at;
      }
    })().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }
}
