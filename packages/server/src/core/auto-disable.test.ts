import { describe, expect, it } from 'vitest';
import { autoDisableLimits, autoDisableReason, describeSeconds, shouldAutoDisable } from './auto-disable.js';

const server = { afterSeconds: 432_000, minFailures: 20 };

describe('autoDisableLimits', () => {
  it("takes the endpoint's, then the project's, then the server's limit, field by field", () => {
    expect(autoDisableLimits({ disableAfterSeconds: null, disableMinFailures: null }, {}, server)).toEqual(server);
    expect(autoDisableLimits({ disableAfterSeconds: null, disableMinFailures: null }, { disable_after_seconds: 60, disable_min_failures: 3 }, server)).toEqual({
      afterSeconds: 60,
      minFailures: 3,
    });
    expect(autoDisableLimits({ disableAfterSeconds: 5, disableMinFailures: null }, { disable_after_seconds: 60, disable_min_failures: 3 }, server)).toEqual({
      afterSeconds: 5,
      minFailures: 3,
    });
    expect(autoDisableLimits({ disableAfterSeconds: 0, disableMinFailures: 1 }, { disable_after_seconds: 60 }, server)).toEqual({ afterSeconds: 0, minFailures: 1 });
  });
});

describe('shouldAutoDisable', () => {
  const limits = { afterSeconds: 10, minFailures: 3 };
  it('needs both: enough failures in a row and no success for long enough', () => {
    expect(shouldAutoDisable({ failures: 3, failingSince: 0 }, limits, 10_000)).toBe(true);
    expect(shouldAutoDisable({ failures: 2, failingSince: 0 }, limits, 100_000)).toBe(false);
    expect(shouldAutoDisable({ failures: 50, failingSince: 0 }, limits, 9_999)).toBe(false);
  });
  it('never disables with a limit of 0 or without a streak', () => {
    expect(shouldAutoDisable({ failures: 50, failingSince: 0 }, { afterSeconds: 0, minFailures: 1 }, 1e12)).toBe(false);
    expect(shouldAutoDisable({ failures: 0, failingSince: null }, { afterSeconds: 1, minFailures: 0 }, 1e12)).toBe(false);
  });
});

describe('autoDisableReason', () => {
  it('says how long and how many, and how to undo it', () => {
    expect(autoDisableReason({ failures: 23, failingSince: 0 }, server)).toBe('no successful attempt for 5 days (23 failed attempts); resume it to re-enable');
    expect(describeSeconds(1)).toBe('1 second');
    expect(describeSeconds(90)).toBe('90 seconds');
    expect(describeSeconds(7200)).toBe('2 hours');
    expect(describeSeconds(60)).toBe('1 minute');
  });
});
