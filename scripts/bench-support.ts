/**
 * @module bench-support
 * What the benchmarks share: running an operation from several concurrent loops for a fixed time.
 */

/** Runs `op` from `concurrency` loops for `seconds`; returns the operations done and the time taken. */
export async function measure(seconds: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<{ ops: number; ms: number }> {
  let ops = 0;
  let next = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op(next++);
        ops++;
      }
    }),
  );
  return { ops, ms: performance.now() - start };
}
