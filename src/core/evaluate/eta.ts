/**
 * Estimate of a run's time left: the mean wall time per finished case (and the finished fraction of the current
 * one, by windows) applied to the cases still to run. No estimate before the first case has run for a second.
 */
export class Eta {
  private readonly start: number;
  private finished = 0;

  constructor(private readonly cases: number, private readonly now: () => number = () => Date.now()) {
    this.start = now();
  }

  caseDone(): void {
    this.finished++;
  }

  /** Seconds left, given the fraction (0..1) of the current case done; undefined while nothing is known. */
  secondsLeft(currentFraction: number): number | undefined {
    const elapsed = (this.now() - this.start) / 1000;
    const units = this.finished + Math.min(Math.max(currentFraction, 0), 1);
    if (units <= 0 || elapsed < 1) return undefined;
    return Math.max(0, (elapsed / units) * (this.cases - units));
  }
}

/** "45 s", "3 min", "1 h 20 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}
