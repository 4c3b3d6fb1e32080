import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from './support/http-session.js';
import { tokenOf, waitForMail } from './support/mail.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let policyVersion: string;
beforeAll(async () => {
  server = await startTestServer();
  const { data } = await new CookieClient(server.url).graphql<{ privacyPolicy: { version: string } }>(
    '{ privacyPolicy { version } }',
  );
  policyVersion = data!.privacyPolicy.version;
});
afterAll(() => server.stop());

let counter = 0;
async function person(name: string) {
  counter += 1;
  const client = new CookieClient(server.url);
  const email = `${name.toLowerCase()}${counter}.${Date.now()}@example.test`;
  const { data } = await client.graphql<{ signUp: { user: { id: string } } }>(
    'mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }',
    {
      input: {
        name,
        email,
        password: 'correct horse battery staple',
        ageConfirmed: true,
        acceptedPolicyVersion: policyVersion,
      },
    },
  );
  // Inviting needs a verified address; everyone here verifies through the emailed link.
  const verification = await waitForMail(server, email, /verify/i);
  await client.graphql(
    'mutation V($token: String!) { verifyEmail(input: { token: $token }) { user { id } } }',
    {
      token: tokenOf(verification.link),
    },
  );
  return { client, email, id: data!.signUp.user.id };
}

type Person = Awaited<ReturnType<typeof person>>;

const CREATE =
  'mutation C($name: String!) { createOrganization(input: { name: $name }) { organization { id name viewerRole projects { code } } } }';
const INVITE = `mutation I($org: ID!, $email: String!, $role: MembershipRole!) {
  inviteMember(input: { organizationId: $org, email: $email, role: $role }) { invitation { id email role } } }`;
const ACCEPT =
  'mutation A($token: String!) { acceptInvitation(input: { token: $token }) { organization { id viewerRole } } }';
const MEMBERS =
  'query M($org: ID!) { organization(id: $org) { members { role user { id name } } invitations { email role } } }';
const CHANGE_ROLE = `mutation R($org: ID!, $user: ID!, $role: MembershipRole!) {
  changeMemberRole(input: { organizationId: $org, userId: $user, role: $role }) { member { role } } }`;
const REMOVE =
  'mutation X($org: ID!, $user: ID!) { removeMember(input: { organizationId: $org, userId: $user }) { removedUserId } }';

function codeOf(result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) {
  return result.errors?.[0]?.extensions?.code;
}

async function createOrganization(owner: Person, name: string): Promise<string> {
  const { data } = await owner.client.graphql<{ createOrganization: { organization: { id: string } } }>(
    CREATE,
    {
      name,
    },
  );
  return data!.createOrganization.organization.id;
}

/** Invites `invitee` by email and accepts through the emailed link. */
async function join(admin: Person, organizationId: string, invitee: Person, role: string) {
  const sentAt = new Date();
  const invited = await admin.client.graphql(INVITE, { org: organizationId, email: invitee.email, role });
  expect(invited.errors).toBeUndefined();
  const mail = await waitForMail(server, invitee.email, /invited you/, { after: sentAt });
  expect(mail.link.startsWith(`${server.publicUrl}/invitations/accept?token=`)).toBe(true);
  return invitee.client.graphql<{ acceptInvitation: { organization: { viewerRole: string } } }>(ACCEPT, {
    token: tokenOf(mail.link),
  });
}

describe('organizations and roles', () => {
  it('creates an organization owned by its creator, with a default project', async () => {
    const owner = await person('Olga');
    const { data } = await owner.client.graphql<{ createOrganization: { organization: unknown } }>(CREATE, {
      name: 'Acme Batch',
    });
    expect(data!.createOrganization.organization).toMatchObject({
      name: 'Acme Batch',
      viewerRole: 'OWNER',
      projects: [{ code: 'default' }],
    });
  });

  it('invites by email: only the invited address can accept, once, with the invited role', async () => {
    const owner = await person('Olga');
    const organizationId = await createOrganization(owner, 'Acme');
    const invitee = await person('Ivan');
    const stranger = await person('Sam');

    const sentAt = new Date();
    await owner.client.graphql(INVITE, {
      org: organizationId,
      email: invitee.email.toUpperCase(),
      role: 'MEMBER',
    });
    const mail = await waitForMail(server, invitee.email, /invited you/, { after: sentAt });
    expect((await owner.client.graphql(MEMBERS, { org: organizationId })).data).toMatchObject({
      organization: { invitations: [{ email: invitee.email, role: 'MEMBER' }] },
    });

    const wrongPerson = await stranger.client.graphql(ACCEPT, { token: tokenOf(mail.link) });
    expect(wrongPerson.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(wrongPerson.errors?.[0]?.message).toContain(`This invitation is for ${invitee.email}`);

    const accepted = await invitee.client.graphql<{
      acceptInvitation: { organization: { viewerRole: string } };
    }>(ACCEPT, { token: tokenOf(mail.link) });
    expect(accepted.data!.acceptInvitation.organization.viewerRole).toBe('MEMBER');
    expect(codeOf(await invitee.client.graphql(ACCEPT, { token: tokenOf(mail.link) }))).toBe(
      'BAD_USER_INPUT',
    );

    const members = await invitee.client.graphql<{
      organization: { members: { role: string; user: { id: string } }[] };
    }>('query M($org: ID!) { organization(id: $org) { members { role user { id } } } }', {
      org: organizationId,
    });
    expect(members.data!.organization.members).toEqual([
      { role: 'OWNER', user: { id: owner.id } },
      { role: 'MEMBER', user: { id: invitee.id } },
    ]);
    // A member cannot see pending invitations, nor invite.
    expect(codeOf(await invitee.client.graphql(MEMBERS, { org: organizationId }))).toBe('FORBIDDEN');
    expect(
      codeOf(
        await invitee.client.graphql(INVITE, {
          org: organizationId,
          email: 'x@example.test',
          role: 'VIEWER',
        }),
      ),
    ).toBe('FORBIDDEN');
  });

  it('keeps an owner: the last owner can be neither demoted nor removed, and cannot leave', async () => {
    const owner = await person('Olga');
    const organizationId = await createOrganization(owner, 'Solo');
    const demote = await owner.client.graphql(CHANGE_ROLE, {
      org: organizationId,
      user: owner.id,
      role: 'ADMIN',
    });
    expect(demote.errors?.[0]).toMatchObject({
      message: 'An organization needs an owner: make someone else an owner before you demote the last one.',
      extensions: { code: 'CONFLICT' },
    });
    expect(codeOf(await owner.client.graphql(REMOVE, { org: organizationId, user: owner.id }))).toBe(
      'CONFLICT',
    );

    const second = await person('Paula');
    await join(owner, organizationId, second, 'ADMIN');
    // An admin cannot make or unmake owners.
    expect(
      codeOf(
        await second.client.graphql(CHANGE_ROLE, { org: organizationId, user: second.id, role: 'OWNER' }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      codeOf(
        await second.client.graphql(CHANGE_ROLE, { org: organizationId, user: owner.id, role: 'VIEWER' }),
      ),
    ).toBe('FORBIDDEN');
    // With a second owner, the first may step down, and then leave.
    await owner.client.graphql(CHANGE_ROLE, { org: organizationId, user: second.id, role: 'OWNER' });
    expect(
      (await owner.client.graphql(CHANGE_ROLE, { org: organizationId, user: owner.id, role: 'MEMBER' }))
        .errors,
    ).toBeUndefined();
    expect(
      (await owner.client.graphql(REMOVE, { org: organizationId, user: owner.id })).errors,
    ).toBeUndefined();
    expect(codeOf(await owner.client.graphql(MEMBERS, { org: organizationId }))).toBe('NOT_FOUND');
  });

  it('refuses invitations from an account whose email is not verified yet', async () => {
    const client = new CookieClient(server.url);
    await client.graphql('mutation S($input: SignUpInput!) { signUp(input: $input) { user { id } } }', {
      input: {
        name: 'Unverified',
        email: `unverified.${Date.now()}@example.test`,
        password: 'correct horse battery staple',
        ageConfirmed: true,
        acceptedPolicyVersion: policyVersion,
      },
    });
    const { data } = await client.graphql<{ organizations: { id: string }[] }>('{ organizations { id } }');
    const refused = await client.graphql(INVITE, {
      org: data!.organizations[0]!.id,
      email: 'x@example.test',
      role: 'VIEWER',
    });
    expect(refused.errors?.[0]).toMatchObject({
      message: 'Verify your email address first: open the link we sent you, or ask for a new one.',
      extensions: { code: 'FORBIDDEN' },
    });
  });

  it('enforces the plan’s member limit, counting pending invitations', async () => {
    const owner = await person('Olga');
    const organizationId = await createOrganization(owner, 'Tiny');
    // FREE allows 3 members: the owner plus two invitations fill it.
    for (const role of ['MEMBER', 'VIEWER']) {
      const result = await owner.client.graphql(INVITE, {
        org: organizationId,
        email: `${role}.${Date.now()}@example.test`,
        role,
      });
      expect(result.errors).toBeUndefined();
    }
    const over = await owner.client.graphql(INVITE, {
      org: organizationId,
      email: `over.${Date.now()}@example.test`,
      role: 'MEMBER',
    });
    expect(over.errors?.[0]).toMatchObject({
      message: 'The FREE plan allows 3 members; this organization has 3. Remove one or change plans.',
      extensions: { code: 'LIMIT_EXCEEDED', limit: 3, plan: 'FREE' },
    });
  });

  it('records membership changes in the audit log', async () => {
    const owner = await person('Olga');
    const organizationId = await createOrganization(owner, 'Audited');
    const member = await person('Mia');
    await join(owner, organizationId, member, 'VIEWER');
    await owner.client.graphql(CHANGE_ROLE, { org: organizationId, user: member.id, role: 'MEMBER' });
    await owner.client.graphql(REMOVE, { org: organizationId, user: member.id });
    const { data } = await owner.client.graphql<{ auditEvents: { action: string }[] }>(
      'query A($org: ID!) { auditEvents(organizationId: $org) { action } }',
      { org: organizationId },
    );
    expect(data!.auditEvents.map((event) => event.action)).toEqual([
      'member.removed',
      'member.role_changed',
      'member.joined',
      'member.invited',
      'organization.created',
    ]);
  });

  it('answers NOT_FOUND for another organization’s ids', async () => {
    const alice = await person('Alice');
    const bob = await person('Bob');
    const aliceOrg = await createOrganization(alice, 'Private');
    for (const [document, variables] of [
      [INVITE, { org: aliceOrg, email: 'x@example.test', role: 'VIEWER' }],
      [CHANGE_ROLE, { org: aliceOrg, user: alice.id, role: 'VIEWER' }],
      [REMOVE, { org: aliceOrg, user: alice.id }],
      [MEMBERS, { org: aliceOrg }],
      [
        'mutation R($id: ID!) { revokeInvitation(input: { invitationId: $id }) { invitation { id } } }',
        { id: aliceOrg },
      ],
    ] as const) {
      expect(codeOf(await bob.client.graphql(document, variables)), document).toBe('NOT_FOUND');
    }
  });
});
