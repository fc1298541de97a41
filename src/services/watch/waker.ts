/** One consumer waiting for news: `wait` resolves at the next `wake()`, or when the signal aborts. */
export class Waker {
  private pending: (() => void) | undefined;

  wait(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.pending = undefined;
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      this.pending = done;
    });
  }

  wake(): void {
    this.pending?.();
  }
}
