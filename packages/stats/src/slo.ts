/**
 * SLO arithmetic (the error-budget model of the Google SRE workbook).
 *
 * With an SLO target T (e.g. 0.995 = 99.5% of requests good), the error
 * budget is the allowed bad fraction 1 - T. Over a window, the burn rate is
 * the observed error ratio divided by the budget: 1 means the budget would be
 * used up exactly at the end of the SLO period, 14.4 means a 30-day budget
 * is gone in 50 hours.
 */

function checkTarget(sloTarget: number, who: string): void {
  if (!(sloTarget > 0 && sloTarget < 1)) {
    throw new RangeError(`${who}: sloTarget must be in (0, 1), e.g. 0.995; got ${sloTarget}`);
  }
}

/**
 * Fraction of bad events, bad / total, clamped to [0, 1] (counters read at
 * slightly different times can give bad > total). No traffic (total = 0)
 * gives 0: nothing was served badly and no budget was spent. NaN for
 * negative or non-finite inputs.
 */
export function errorRatio(bad: number, total: number): number {
  if (!(bad >= 0) || !(total >= 0) || !Number.isFinite(bad) || !Number.isFinite(total)) return Number.NaN;
  if (total === 0) return 0;
  return Math.min(1, bad / total);
}

/** Burn rate = errorRatio / (1 - sloTarget). */
export function burnRate(ratio: number, sloTarget: number): number {
  checkTarget(sloTarget, "burnRate");
  return ratio / (1 - sloTarget);
}

/**
 * Fraction of the error budget left after an SLO period in which the error
 * ratio was `ratio`: 1 - ratio / (1 - sloTarget). 1 = untouched, 0 = spent,
 * negative = overspent (not clamped, so that the overspend is visible).
 */
export function errorBudgetRemaining(ratio: number, sloTarget: number): number {
  return 1 - burnRate(ratio, sloTarget);
}

/**
 * Burn-rate threshold that fires when `budgetFraction` of the budget of a
 * `periodHours` SLO period is consumed within `windowHours`:
 * budgetFraction · periodHours / windowHours. The workbook's multi-window
 * pairs for a 30-day SLO: 2% in 1 h → 14.4, 5% in 6 h → 6, 10% in 3 days → 1.
 */
export function burnRateThreshold(
  budgetFraction: number,
  windowHours: number,
  periodHours = 30 * 24,
): number {
  if (!(budgetFraction > 0) || !(windowHours > 0) || !(periodHours > 0)) {
    throw new RangeError("burnRateThreshold: arguments must be > 0");
  }
  return (budgetFraction * periodHours) / windowHours;
}
