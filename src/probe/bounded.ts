/**
 * Time limits of the probe: every network step runs under a per-step timeout and an overall deadline, so the
 * whole probe ends in bounded time even when every answer hangs. A step that runs out of time is aborted
 * (its sockets destroyed, its AWS request cancelled through the AbortSignal) and reports a timeout.
 */

/** The error a bounded step rejects with when its time is up. */
export class ProbeTimeout extends Error {
  override readonly name = "ProbeTimeout";
  constructor(
    readonly ms: number,
    what = "the step",
  ) {
    super(`${what} did not finish within ${ms} ms`);
  }
}

export function isTimeout(err: unknown): err is ProbeTimeout {
  return err instanceof ProbeTimeout;
}

/**
 * Run `fn` with an AbortSignal that fires after `ms`; reject with ProbeTimeout at that moment even if `fn`
 * ignores the signal.
 */
export async function runBounded<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ProbeTimeout(ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
    // A step that finished (or failed) early still releases whatever it left open.
    if (!controller.signal.aborted) controller.abort(new Error("step finished"));
  }
}

/** The per-step timeout and the overall deadline of one probe run. */
export class Budget {
  private readonly end: number;
  constructor(
    readonly stepMs: number,
    readonly deadlineMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.end = clock() + deadlineMs;
  }
  /** Milliseconds left before the overall deadline (0 when passed). */
  remaining(): number {
    return Math.max(0, this.end - this.clock());
  }
  /** The time a step may take now: the step timeout, cut to what is left of the deadline. */
  forStep(): number {
    return Math.min(this.stepMs, this.remaining());
  }
  expired(): boolean {
    return this.remaining() <= 0;
  }
}

/** `5 s`, `750 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0
    ? `${ms / 1000} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${ms} ms`;
}
