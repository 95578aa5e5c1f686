/** A sleep that `wake()` cuts short: the poll loop runs at once after a local enqueue or finish. */
export class Wakeable {
  private pending: (() => void) | undefined;
  private woken = false;

  wake(): void {
    this.woken = true;
    this.pending?.();
  }

  wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.pending = undefined;
        self.woken = false;
        resolve();
      }
      this.pending = done;
    });
  }
}
