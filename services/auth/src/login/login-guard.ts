import { sha256 } from '../flows/crypto.ts';
import type { LoginGuardConfig } from '../flows/deps.ts';
import type { AttemptCounters } from './attempt-counters.ts';

/** What the guard decided before a login attempt. */
export type GuardVerdict =
  | { allowed: true }
  /** `lockedBy` is for metrics only: the response never says which counter applied. */
  | { allowed: false; retryAfterSeconds: number; lockedBy: 'account' | 'ip' };

/**
 * Brute-force protection of the login form (SECURITY 23, ASVS V2.2): failures are counted per
 * account (the submitted email, whether or not such an account exists) and per client IP;
 * past a threshold every attempt waits longer, and past a higher one attempts are refused until
 * the window ends. The response never says which counter applied, and an unknown email is
 * counted exactly like a known one, so nothing reveals whether an account exists.
 */
export class LoginGuard {
  readonly #counters: AttemptCounters;
  readonly #config: LoginGuardConfig;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(counters: AttemptCounters, config: LoginGuardConfig, sleep: (ms: number) => Promise<void>) {
    this.#counters = counters;
    this.#config = config;
    this.#sleep = sleep;
  }

  /** Refuses a locked account or IP, otherwise waits the current delay and allows the attempt. */
  async before(email: string, ip: string): Promise<GuardVerdict> {
    const [account = 0, address = 0] = await this.#counters.get(this.#keys(email, ip));
    const c = this.#config;
    if (account >= c.accountLockAfter || address >= c.ipLockAfter) {
      const lockedBy = account >= c.accountLockAfter ? 'account' : 'ip';
      return { allowed: false, retryAfterSeconds: c.windowSeconds, lockedBy };
    }
    const delay = Math.max(this.#delay(account, c.accountDelayAfter), this.#delay(address, c.ipDelayAfter));
    if (delay > 0) await this.#sleep(delay);
    return { allowed: true };
  }

  async failed(email: string, ip: string): Promise<void> {
    await this.#counters.increment(this.#keys(email, ip), this.#config.windowSeconds * 1000);
  }

  /** A correct password clears the account's failures (the IP's stay: other accounts may be under attack from it). */
  async succeeded(email: string): Promise<void> {
    await this.#counters.reset(this.#accountKey(email));
  }

  #delay(failures: number, after: number): number {
    if (failures < after) return 0;
    return Math.min(this.#config.maxDelayMs, this.#config.baseDelayMs * 2 ** (failures - after));
  }

  #accountKey(email: string): string {
    return `login:account:${sha256(email.trim().toLowerCase())}`;
  }

  #keys(email: string, ip: string): string[] {
    return [this.#accountKey(email), `login:ip:${ip}`];
  }
}
