import { ApiTokenScope } from './api-token.entity.js';

/** Who is calling: a person through a browser session, or a program through an API token. */
export interface Viewer {
  userId: string;
  email: string;
  emailVerified: boolean;
  /** Set when signed in through a browser session. */
  sessionId?: string;
  /** Set when calling with an API token: the caller is limited to this organization (or project) and scopes. */
  token?: { id: string; organizationId: string; projectId?: string; scopes: ApiTokenScope[] };
}

/**
 * What a resolver may demand of its caller, declared with `@Auth(...)`:
 * - SESSION: a person in a browser (API tokens cannot, e.g., mint more tokens);
 * - VERIFIED: the person's email is verified (needed to create credentials or run jobs);
 * - READ / WRITE / ADMIN: API token scopes (browser sessions hold all three);
 * - AGENT: a `daestro agent` with its agent token, and nobody else (agents/).
 * `@Auth()` alone means: any signed-in caller (never an agent).
 */
export type AuthRule = 'SESSION' | 'VERIFIED' | `${ApiTokenScope}` | 'AGENT';

export function isAllowed(viewer: Viewer, rules: readonly AuthRule[]): AuthRule | undefined {
  for (const rule of rules) {
    if (rule === 'AGENT') return rule;
    if (rule === 'SESSION' && !viewer.sessionId) return rule;
    if (rule === 'VERIFIED' && !viewer.emailVerified) return rule;
    if (
      (rule === ApiTokenScope.READ || rule === ApiTokenScope.WRITE || rule === ApiTokenScope.ADMIN) &&
      viewer.token &&
      !viewer.token.scopes.includes(rule as ApiTokenScope)
    ) {
      return rule;
    }
  }
  return undefined;
}
