/**
 * The order in which a run's metrics, params and tags were first logged. MLflow 3.17.2 on SQL returns a run's data
 * in that order (its rows come back in insertion order; the MLflow UI takes its default chart axis from the first
 * metric), so both stores keep an ordinal per (run, key), set when the key is first stored and never changed.
 *
 * Ordinals come from the clock in microseconds, kept strictly increasing within the process, so they also order the
 * writes of several processes sharing one database (to the accuracy of their clocks). A batch reserves one ordinal
 * per item, in the order given.
 */
export type LogOrder = (count: number) => number;

/** A source of ordinals: `reserve(n)` returns the first of `n` consecutive ordinals above every earlier one. */
export function createLogOrder(now: () => number = Date.now): LogOrder {
  let last = 0;
  return (count) => {
    const first = Math.max(now() * 1000, last + 1);
    last = first + Math.max(count, 1) - 1;
    return first;
  };
}
