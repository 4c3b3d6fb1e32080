import { RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { UserError } from '../graphql/errors.js';
import type { ClientInfo } from './session.service.js';

/** Operations a stranger could repeat to guess passwords, flood inboxes or farm accounts. */
export type ThrottledAction =
  | 'signUp'
  | 'logIn'
  | 'resendVerificationEmail'
  | 'requestPasswordReset'
  | 'resetPassword'
  | 'inviteMember'
  | 'confirmPassword'
  | 'oauthStart'
  | 'oauthCallback'
  | 'registerAgent';

interface Budget {
  points: number;
  durationSeconds: number;
}

/** Attempts allowed per IP and per account (email) in a window. */
const BUDGETS: Record<ThrottledAction, { perIp: Budget; perAccount?: Budget }> = {
  signUp: { perIp: { points: 10, durationSeconds: 3600 }, perAccount: { points: 5, durationSeconds: 3600 } },
  logIn: { perIp: { points: 50, durationSeconds: 900 }, perAccount: { points: 10, durationSeconds: 900 } },
  resendVerificationEmail: {
    perIp: { points: 20, durationSeconds: 3600 },
    perAccount: { points: 3, durationSeconds: 900 },
  },
  requestPasswordReset: {
    perIp: { points: 20, durationSeconds: 3600 },
    perAccount: { points: 3, durationSeconds: 900 },
  },
  resetPassword: { perIp: { points: 20, durationSeconds: 900 } },
  // Sign-in with GitHub or Google (accounts/oauth.routes.ts): each start writes a row, each callback spends a code.
  oauthStart: { perIp: { points: 30, durationSeconds: 900 } },
  oauthCallback: { perIp: { points: 30, durationSeconds: 900 } },
  // Changing a password or email needs the current password: a stolen session must not guess it.
  confirmPassword: {
    perIp: { points: 30, durationSeconds: 900 },
    perAccount: { points: 10, durationSeconds: 900 },
  },
  // Each registration creates a spawn (the plan caps how many); a fleet behind one NAT still fits.
  registerAgent: { perIp: { points: 60, durationSeconds: 900 } },
  inviteMember: {
    perIp: { points: 50, durationSeconds: 3600 },
    perAccount: { points: 30, durationSeconds: 3600 },
  },
};

export const RATE_LIMIT_TABLE = 'rate_limit';

/**
 * Rate limits on sign-in and friends, kept in PostgreSQL (rate-limiter-flexible)
 * so every replica counts against the same budget. Each resolver call consumes
 * a point, so aliases or several operations in one request cannot multiply attempts.
 */
export class Throttle {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly knex: unknown) {}

  async consume(action: ThrottledAction, client: ClientInfo, account?: string): Promise<void> {
    const budgets = BUDGETS[action];
    const checks: Promise<unknown>[] = [
      this.limiter(action, 'ip', budgets.perIp).consume(client.ip ?? 'unknown'),
    ];
    if (account !== undefined && budgets.perAccount) {
      checks.push(this.limiter(action, 'account', budgets.perAccount).consume(account.trim().toLowerCase()));
    }
    const results = await Promise.allSettled(checks);
    const refused = results.find((result) => result.status === 'rejected');
    if (!refused) return;
    const reason = (refused as PromiseRejectedResult).reason;
    if (!(reason instanceof RateLimiterRes)) throw reason;
    const retryAfterSeconds = Math.ceil(reason.msBeforeNext / 1000);
    throw UserError.limitExceeded(`Too many attempts. Try again in ${retryAfterSeconds} seconds.`, {
      retryAfterSeconds,
    });
  }

  private limiter(action: ThrottledAction, by: 'ip' | 'account', budget: Budget): RateLimiterAbstract {
    const prefix = `${action}:${by}`;
    let limiter = this.limiters.get(prefix);
    if (!limiter) {
      limiter = new RateLimiterPostgres({
        storeClient: this.knex,
        storeType: 'knex',
        tableName: RATE_LIMIT_TABLE,
        // The table comes from our migrations, so no replica races to create it.
        tableCreated: true,
        keyPrefix: prefix,
        points: budget.points,
        duration: budget.durationSeconds,
      });
      this.limiters.set(prefix, limiter);
    }
    return limiter;
  }
}
