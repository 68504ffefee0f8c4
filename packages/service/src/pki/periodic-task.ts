/**
 * A task run every `intervalMs` (and on demand), never twice at once, whose timer does not
 * keep the process alive. `stop()` clears the timer and waits for a run in flight, so a
 * service can close its database after it.
 */
export interface PeriodicTask {
  /** Runs the task now (after a run in flight, if any). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export interface PeriodicTaskOptions {
  readonly intervalMs: number;
  /** Told about every failure; the task runs again at the next interval. */
  readonly onError: (error: unknown) => void;
}

export function startPeriodicTask(task: () => Promise<void>, options: PeriodicTaskOptions): PeriodicTask {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    const next: Promise<void> = (running ?? Promise.resolve())
      .then(task)
      .catch(options.onError)
      .finally(() => {
        if (running === next) running = undefined;
      });
    running = next;
    return next;
  };
  const timer = setInterval(() => {
    // A run still in flight when the interval comes round is enough: skip this tick.
    if (running === undefined) void run();
  }, options.intervalMs);
  timer.unref();
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
