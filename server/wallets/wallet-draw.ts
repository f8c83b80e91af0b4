/**
 * What a prepaid wallet would have drawn (issue 17, "Shadow and would-bill"): the shadow backlog's amounts, month by
 * month, drawn from a wallet with the sub-account's settings that started empty — the same top-up rule as the wallet
 * check (wallet-checks.ts): whenever the balance is below the threshold a top-up is charged (the initial amount the
 * first time, then the top-up amount), never above the maximum balance nor above the month's cap. Usage is drawn as it
 * comes, so a top-up happens the moment the balance dips below the threshold; when no top-up is allowed any more the
 * rest of the month is drawn at once and the balance goes negative (the period's invoice would charge that part).
 * A simulation in whole cents (integers): an estimate for the agency, not anything Stripe did.
 */

/** The wallet settings the simulation follows (cents; `monthlyCapCents` null = no cap). */
export interface DrawSettings {
  initialTopUpCents: number;
  thresholdCents: number;
  topUpCents: number;
  maxBalanceCents: number;
  monthlyCapCents: number | null;
}

/** One month of the simulation: what was drawn, the top-ups it took (count, cents) and the balance at its end. */
export interface DrawMonth {
  month: string;
  drawnCents: number;
  topUps: number;
  topUpCents: number;
  endBalanceCents: number;
}

/** The whole simulation: totals over the months and each month. */
export interface WalletDraw {
  drawnCents: number;
  topUps: number;
  topUpCents: number;
  endBalanceCents: number;
  months: DrawMonth[];
}

/** Steps after which a month's remaining draw is taken at once (only top-ups of a few cents get near it). */
const MAX_STEPS_PER_MONTH = 10_000;

/**
 * Simulates the wallet over `draws` (cents per month, `YYYY-MM`, in order).
 * @returns the totals and the months, in cents.
 */
export function simulateWalletDraw(settings: DrawSettings, draws: ReadonlyArray<{ month: string; amountCents: number }>): WalletDraw {
  let balance = 0;
  let first = true;
  const months: DrawMonth[] = [];
  for (const { month, amountCents } of draws) {
    const m: DrawMonth = { month, drawnCents: amountCents, topUps: 0, topUpCents: 0, endBalanceCents: 0 };
    let left = amountCents;
    for (let step = 0; ; step++) {
      if (balance < settings.thresholdCents) {
        const capLeft = settings.monthlyCapCents === null ? Infinity : settings.monthlyCapCents - m.topUpCents;
        const amount = Math.min(first ? settings.initialTopUpCents : settings.topUpCents, settings.maxBalanceCents - balance, capLeft);
        if (amount > 0 && step < MAX_STEPS_PER_MONTH) {
          balance += amount;
          first = false;
          m.topUps += 1;
          m.topUpCents += amount;
        }
      }
      if (left === 0) break;
      // Draw down to just below the threshold (where the next top-up happens), or all that is left.
      const take = balance >= settings.thresholdCents && step < MAX_STEPS_PER_MONTH ? Math.min(left, balance - settings.thresholdCents + 1) : left;
      balance -= take;
      left -= take;
    }
    m.endBalanceCents = balance;
    months.push(m);
  }
  const sum = (f: (m: DrawMonth) => number) => months.reduce((s, m) => s + f(m), 0);
  return { drawnCents: sum((m) => m.drawnCents), topUps: sum((m) => m.topUps), topUpCents: sum((m) => m.topUpCents), endBalanceCents: balance, months };
}
