/**
 * A system clock stepped backwards, as NTP or an operator may do: Date.now() (what a wall
 * clock reads) jumps back while timers and the monotonic clock run on.
 */
const realNow = Date.now;

/**
 * Makes Date.now() read `ms` earlier than the real time, from its `afterCalls + 1`-th call on
 * (0: at once). Returns the function that puts the real clock back.
 */
export function stepClockBack(ms: number, afterCalls = 0): () => void {
  let calls = 0;
  Date.now = () => (++calls > afterCalls ? realNow.call(Date) - ms : realNow.call(Date));
  return () => {
    Date.now = realNow;
  };
}

export const HOUR_MS = 3_600_000;
