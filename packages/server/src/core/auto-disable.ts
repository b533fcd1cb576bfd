/**
 * Auto-disable: an endpoint that has not succeeded for a long time and keeps failing is disabled,
 * so deliveries stop piling up behind a receiver that is gone. Pure.
 */

export interface AutoDisableLimits {
  /** No success for this long (0 = never disable). */
  afterSeconds: number;
  /** And at least this many failed attempts in a row. */
  minFailures: number;
}

/** The endpoint's own limit, else the project's, else the server's, each field on its own. */
export function autoDisableLimits(
  endpoint: { disableAfterSeconds: number | null; disableMinFailures: number | null },
  project: { disable_after_seconds?: number; disable_min_failures?: number },
  server: AutoDisableLimits,
): AutoDisableLimits {
  return {
    afterSeconds: endpoint.disableAfterSeconds ?? project.disable_after_seconds ?? server.afterSeconds,
    minFailures: endpoint.disableMinFailures ?? project.disable_min_failures ?? server.minFailures,
  };
}

/** The failing streak after the attempt just recorded. */
export interface FailingStreak {
  failures: number;
  /** When the first failed attempt of the streak started. */
  failingSince: number | null;
}

export function shouldAutoDisable(streak: FailingStreak, limits: AutoDisableLimits, now: number): boolean {
  if (limits.afterSeconds <= 0 || streak.failingSince === null) return false;
  return streak.failures >= limits.minFailures && now - streak.failingSince >= limits.afterSeconds * 1000;
}

/** The disabled_reason shown on the endpoint and sent in hookbridge.endpoint.disabled. */
export function autoDisableReason(streak: FailingStreak, limits: AutoDisableLimits): string {
  return `no successful attempt for ${describeSeconds(limits.afterSeconds)} (${streak.failures} failed attempts); resume it to re-enable`;
}

export function describeSeconds(s: number): string {
  const units: Array<[number, string]> = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (s >= size && s % size === 0) return plural(s / size, name);
  }
  return plural(s, 'second');
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
