import { expect } from 'vitest';
import { CookieClient } from './http-session.js';
import { tokenOf, waitForMail } from './mail.js';
import type { TestServer } from './server.js';

/** Someone signed up through the API, with their personal organization and its default project. */
export interface Person {
  client: CookieClient;
  id: string;
  email: string;
  organizationId: string;
  projectId: string;
}

/** Everyone signed up here has this password, unless signUpPerson is given another. */
export const PERSON_PASSWORD = 'correct horse battery staple';

let counter = 0;

/** Signs a new person up (verifying their address through the emailed link unless told not to). */
export async function signUpPerson(
  server: TestServer,
  name: string,
  options: { verify?: boolean; password?: string } = {},
): Promise<Person> {
  counter += 1;
  const client = new CookieClient(server.url);
  const email = `${name.toLowerCase()}${counter}.${Date.now()}@example.test`;
  const policy = await client.graphql<{ privacyPolicy: { version: string } }>(
    '{ privacyPolicy { version } }',
  );
  const signedUp = await client.graphql<{ signUp: { user: { id: string } } }>(
    'mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }',
    {
      input: {
        name,
        email,
        password: options.password ?? PERSON_PASSWORD,
        ageConfirmed: true,
        acceptedPolicyVersion: policy.data!.privacyPolicy.version,
      },
    },
  );
  expect(signedUp.errors).toBeUndefined();
  if (options.verify !== false) {
    const verification = await waitForMail(server, email, /verify/i);
    const verified = await client.graphql(
      'mutation V($token: String!) { verifyEmail(input: { token: $token }) { user { id } } }',
      { token: tokenOf(verification.link) },
    );
    expect(verified.errors).toBeUndefined();
  }
  const { data } = await client.graphql<{
    organizations: { id: string; personal: boolean; projects: { id: string }[] }[];
  }>('{ organizations { id personal projects { id } } }');
  const personal = data!.organizations.find((organization) => organization.personal)!;
  return {
    client,
    id: signedUp.data!.signUp.user.id,
    email,
    organizationId: personal.id,
    projectId: personal.projects[0]!.id,
  };
}

/** `admin` invites `invitee` to the organization with `role`; the invitee accepts through the emailed link. */
export async function joinOrganization(
  server: TestServer,
  admin: Person,
  organizationId: string,
  invitee: Person,
  role: 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER',
): Promise<void> {
  const sentAt = new Date();
  const invited = await admin.client.graphql(
    `mutation I($org: ID!, $email: String!, $role: MembershipRole!) {
      inviteMember(input: { organizationId: $org, email: $email, role: $role }) { invitation { id } } }`,
    { org: organizationId, email: invitee.email, role },
  );
  expect(invited.errors).toBeUndefined();
  const mail = await waitForMail(server, invitee.email, /invited you/, { after: sentAt });
  const accepted = await invitee.client.graphql(
    'mutation A($token: String!) { acceptInvitation(input: { token: $token }) { organization { id } } }',
    { token: tokenOf(mail.link) },
  );
  expect(accepted.errors).toBeUndefined();
}

/** An API token of `person` in their organization (or one project of it), as a client that sends it. */
export async function apiTokenClient(
  server: TestServer,
  person: Person,
  scopes: ('READ' | 'WRITE' | 'ADMIN')[],
  projectId?: string,
): Promise<CookieClient> {
  const created = await person.client.graphql<{ createApiToken: { secret: string } }>(
    'mutation T($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }',
    {
      input: { name: `token ${scopes.join('+')}`, organizationId: person.organizationId, projectId, scopes },
    },
  );
  expect(created.errors).toBeUndefined();
  return new CookieClient(server.url, { authorization: `Bearer ${created.data!.createApiToken.secret}` });
}
