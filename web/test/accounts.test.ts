import { describe, expect, it } from 'vitest';
import { expiryFrom, isOrganizationAdmin, tokenState } from '../src/accounts/api-tokens';
import { auditActionLabel } from '../src/accounts/audit';
import { chooseOrganization, organizationStorageKey } from '../src/accounts/organization-choice';

describe('chooseOrganization', () => {
  const personal = { id: 'p', personal: true };
  const team = { id: 't', personal: false };

  it('keeps the organization chosen before', () => {
    expect(chooseOrganization([team, personal], 't')).toBe(team);
  });

  it('falls back to the personal organization when nothing, or something gone, was chosen', () => {
    expect(chooseOrganization([team, personal], null)).toBe(personal);
    expect(chooseOrganization([team, personal], 'left-long-ago')).toBe(personal);
  });

  it('takes the first when there is no personal one, and nothing when there is none', () => {
    expect(chooseOrganization([team], undefined)).toBe(team);
    expect(chooseOrganization([], 't')).toBeUndefined();
  });

  it('keeps choices per person', () => {
    expect(organizationStorageKey('u1')).not.toBe(organizationStorageKey('u2'));
  });
});

describe('API token helpers', () => {
  const now = new Date('2026-11-27T12:00:00Z');

  it('sends no expiry for "never" and adds days otherwise', () => {
    expect(expiryFrom('never', '', now)).toEqual({ ok: true, expiresAt: undefined });
    expect(expiryFrom('30', '', now)).toEqual({ ok: true, expiresAt: '2026-12-27T12:00:00.000Z' });
  });

  it('ends a chosen day at midnight local time, and refuses past or missing days', () => {
    const chosen = expiryFrom('date', '2027-01-15', now);
    expect(chosen.ok).toBe(true);
    const expiresAt = new Date((chosen as { expiresAt: string }).expiresAt);
    expect([expiresAt.getFullYear(), expiresAt.getMonth(), expiresAt.getDate()]).toEqual([2027, 0, 15]);
    expect([expiresAt.getHours(), expiresAt.getMinutes()]).toEqual([23, 59]);

    expect(expiryFrom('date', '2026-11-01', now)).toEqual({
      ok: false,
      message: 'Choose a day in the future.',
    });
    expect(expiryFrom('date', '', now)).toEqual({
      ok: false,
      message: 'Choose the day the token stops working.',
    });
  });

  it('tells active, expired and revoked tokens apart', () => {
    expect(tokenState({ revokedAt: null, expiresAt: null }, now)).toBe('active');
    expect(tokenState({ expiresAt: '2027-01-01T00:00:00Z' }, now)).toBe('active');
    expect(tokenState({ expiresAt: '2026-11-01T00:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ revokedAt: '2026-11-02T00:00:00Z', expiresAt: '2026-11-01T00:00:00Z' }, now)).toBe(
      'revoked',
    );
  });

  it('knows who administers an organization', () => {
    expect(['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'].map((role) => isOrganizationAdmin(role as never))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(isOrganizationAdmin(undefined)).toBe(false);
  });
});

describe('auditActionLabel', () => {
  it('puts known actions in words and shows unknown ones as they are', () => {
    expect(auditActionLabel('api_token.created')).toBe('Created an API token');
    expect(auditActionLabel('organization.renamed')).toBe('organization.renamed');
  });
});
