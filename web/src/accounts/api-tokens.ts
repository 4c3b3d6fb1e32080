// Pure helpers for the API tokens page.
import type { ApiTokenScope, MembershipRole } from '../gql/graphql';

export const SCOPES: { value: ApiTokenScope; label: string; description: string }[] = [
  { value: 'READ', label: 'Read', description: 'Queries and subscriptions.' },
  { value: 'WRITE', label: 'Write', description: 'Also changes (mutations).' },
  { value: 'ADMIN', label: 'Admin', description: 'Also organization settings. Owners and admins only.' },
];

export function isOrganizationAdmin(role: MembershipRole | undefined): boolean {
  return role === 'OWNER' || role === 'ADMIN';
}

export type ExpiryChoice = 'never' | '7' | '30' | '90' | '365' | 'date';

export const EXPIRY_CHOICES: { value: ExpiryChoice; label: string }[] = [
  { value: 'never', label: 'Never' },
  { value: '7', label: 'In 7 days' },
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: '365', label: 'In a year' },
  { value: 'date', label: 'On a date…' },
];

export type Expiry = { ok: true; expiresAt: string | undefined } | { ok: false; message: string };

/**
 * The expiresAt to send: undefined for "never", `now` plus the days, or the end of a chosen day
 * (a `yyyy-mm-dd` from a date input) in the reader's time zone.
 */
export function expiryFrom(choice: ExpiryChoice, date: string, now: Date = new Date()): Expiry {
  if (choice === 'never') return { ok: true, expiresAt: undefined };
  if (choice !== 'date') {
    return { ok: true, expiresAt: new Date(now.getTime() + Number(choice) * 86_400_000).toISOString() };
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return { ok: false, message: 'Choose the day the token stops working.' };
  const endOfDay = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59, 999);
  if (Number.isNaN(endOfDay.getTime()))
    return { ok: false, message: 'Choose the day the token stops working.' };
  if (endOfDay.getTime() <= now.getTime()) return { ok: false, message: 'Choose a day in the future.' };
  return { ok: true, expiresAt: endOfDay.toISOString() };
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(
  token: { revokedAt?: string | null; expiresAt?: string | null },
  now: Date = new Date(),
): TokenState {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && new Date(token.expiresAt).getTime() <= now.getTime()) return 'expired';
  return 'active';
}
