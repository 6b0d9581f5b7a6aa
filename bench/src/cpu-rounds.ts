/**
 * How the DPoP benchmarks (dpop.ts, dpop-ab.ts) time their rows and summarize their rounds.
 */

/**
 * CPU time of this process so far, in µs (`process.cpuUsage`, precise to the µs, counting V8's
 * helper threads too: the garbage a check makes is part of its cost). On a machine shared
 * with other work, time spent waiting for a core is not counted, where wall time would
 * count it against whichever row was running.
 */
export const onCpu = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

export const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The first and third quartiles (nearest rank): how far the rounds spread around the median. */
export const quartiles = (values: number[]): [number, number] => {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[Math.floor((sorted.length - 1) / 4)]!, sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!];
};
