// Audit actions in words. Unknown actions (added by a newer server) are shown as their code.
const ACTION_LABELS: Record<string, string> = {
  'user.signed_up': 'Signed up',
  'user.signed_in': 'Signed in',
  'user.sign_in_failed': 'Failed sign-in',
  'user.signed_out': 'Signed out',
  'user.email_verified': 'Verified email address',
  'user.password_reset': 'Reset password',
  'user.password_changed': 'Changed password',
  'user.email_changed': 'Changed email address',
  'user.oauth_linked': 'Linked a sign-in provider',
  'user.oauth_unlinked': 'Unlinked a sign-in provider',
  'session.revoked': 'Ended a session',
  'api_token.created': 'Created an API token',
  'api_token.revoked': 'Revoked an API token',
  'cloud_auth.created': 'Added a cloud auth',
  'cloud_auth.deleted': 'Deleted a cloud auth',
  'cloud_auth.used': 'Used a cloud auth',
  'registry_auth.created': 'Added a registry auth',
  'registry_auth.deleted': 'Deleted a registry auth',
  'registry_auth.used': 'Used a registry auth',
  'agent.registered': 'Registered an agent',
  'compute_spawn.retired': 'Retired a machine',
  'organization.created': 'Created the organization',
  'member.invited': 'Invited a member',
  'member.invitation_revoked': 'Withdrew an invitation',
  'member.joined': 'Joined',
  'member.role_changed': 'Changed a role',
  'member.removed': 'Removed a member',
  'member.left': 'Left',
};

export function auditActionLabel(action: string): string {
  return ACTION_LABELS[action] ?? action;
}
