/**
 * Gathers items pushed between two animation frames and hands them over once per frame, so a
 * stream of small batches costs one update of the page per frame, not one per batch or line.
 */
export function frameBatcher<T>(
  flush: (items: T[]) => void,
  frames: {
    request(callback: () => void): number;
    cancel(handle: number): void;
  } = {
    request: (callback) => requestAnimationFrame(callback),
    cancel: (handle) => cancelAnimationFrame(handle),
  },
): { push(items: readonly T[]): void; cancel(): void } {
  let pending: T[] = [];
  let frame: number | undefined;
  const run = () => {
    frame = undefined;
    const items = pending;
    pending = [];
    flush(items);
  };
  return {
    push(items) {
      // One by one: spreading a large batch into push() can pass the engine's argument limit.
      for (const item of items) pending.push(item);
      frame ??= frames.request(run);
    },
    cancel() {
      if (frame !== undefined) frames.cancel(frame);
      frame = undefined;
      pending = [];
    },
  };
}
