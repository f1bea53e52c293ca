/**
 * Day partitions of the indexes that stand in for time-range scans (tasks by creation, usage by
 * stop): a UTC date, `YYYY-MM-DD`, so a range of times reads one partition per day it spans.
 */
const DAY_MS = 86_400_000;

export const dayOf = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

/** The days from `since`'s to `until`'s, both included, oldest first. */
export function daysBetween(since: number, until: number): string[] {
  const days: string[] = [];
  for (let t = Math.floor(since / DAY_MS) * DAY_MS; t <= until; t += DAY_MS) days.push(dayOf(t));
  return days;
}
