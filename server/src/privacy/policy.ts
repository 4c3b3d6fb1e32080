/**
 * The privacy policy version users accept at sign-up. Bump it when the policy
 * changes materially; the version each user accepted is stored on their account.
 */
export const CURRENT_POLICY_VERSION = '2026-11-27';
