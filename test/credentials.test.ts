import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ComputeEnvironment,
  ComputeEnvironmentKind,
} from '../server/src/workloads/compute-environment.entity.js';
import {
  BackoffKind,
  JobDefinition,
  JobDefinitionType,
} from '../server/src/workloads/job-definition.entity.js';
import { startFakeCloudProvider, type FakeCloudProvider } from './support/cloud-provider.js';
import type { CookieClient } from './support/http-session.js';
import { captureLogs, type LogLineRecord } from './support/log-capture.js';
import { apiTokenClient, joinOrganization, signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';

// Cloud and registry auths through the full server, checked against a local fake of the
// providers (never a live one). Every secret typed in is a canary that must never come back.

const CHECK_TIMEOUT_MS = 600;

let fake: FakeCloudProvider;
let server: TestServer;
let logLines: LogLineRecord[];

beforeAll(async () => {
  fake = await startFakeCloudProvider();
  const logs = captureLogs('debug');
  logLines = logs.lines;
  server = await startTestServer({
    log: logs.log,
    env: { ...fake.env, CLOUD_AUTH_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS) },
  });
});
afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

/** Every secret typed in, and every response: no response may hold a secret. */
const canaries: string[] = [];
const transcript: string[] = [];

type Result<T> = Awaited<ReturnType<CookieClient['graphql']>> & { data?: T | null };

async function gql<T = Record<string, unknown>>(
  client: CookieClient,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Result<T>> {
  const result = await client.graphql<T>(query, variables);
  transcript.push(JSON.stringify(result));
  return result as Result<T>;
}

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const AWS_SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+';

function random(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

function canary(value: string): string {
  canaries.push(value);
  return value;
}

/** Fresh credentials in each provider's format, registered as canaries. */
const newSecret = {
  aws: () => ({
    accessKeyId: canary(`AKIA${random(UPPER_DIGITS, 16)}`),
    secretAccessKey: canary(random(AWS_SECRET_ALPHABET, 40)),
  }),
  digitalocean: () => canary(`dop_v1_${random(HEX, 64)}`),
  linode: () => canary(random(HEX, 64)),
  vultr: () => canary(random(UPPER_DIGITS, 36)),
};

const CLOUD_VIEW = `id name provider roleArn maskedSecret fingerprint verification verificationMessage checkedAt
  createdAt createdBy { id } usedBy { kind id name } project { id }`;
const CREATE_CLOUD = `mutation C($input: CreateCloudAuthInput!) { createCloudAuth(input: $input) { cloudAuth { ${CLOUD_VIEW} } } }`;
const CLOUD_AUTHS = `query L($projectId: ID!) { cloudAuths(projectId: $projectId) { ${CLOUD_VIEW} } }`;
const DELETE_CLOUD =
  'mutation D($id: ID!) { deleteCloudAuth(input: { cloudAuthId: $id }) { deletedCloudAuthId } }';

const REGISTRY_VIEW =
  'id name registryUrl username maskedSecret fingerprint createdAt createdBy { id } usedBy { kind id name }';
const CREATE_REGISTRY = `mutation C($input: CreateRegistryAuthInput!) { createRegistryAuth(input: $input) { registryAuth { ${REGISTRY_VIEW} } } }`;
const REGISTRY_AUTHS = `query L($projectId: ID!) { registryAuths(projectId: $projectId) { ${REGISTRY_VIEW} } }`;
const DELETE_REGISTRY =
  'mutation D($id: ID!) { deleteRegistryAuth(input: { registryAuthId: $id }) { deletedRegistryAuthId } }';

interface CloudAuthView {
  id: string;
  name: string;
  provider: string;
  roleArn: string | null;
  maskedSecret: string;
  fingerprint: string;
  verification: string;
  verificationMessage: string;
  createdBy: { id: string } | null;
  usedBy: { kind: string; id: string; name: string }[];
}

interface RegistryAuthView {
  id: string;
  name: string;
  registryUrl: string;
  username: string;
  maskedSecret: string;
  fingerprint: string;
  usedBy: { kind: string; id: string; name: string }[];
}

type CloudInput = Record<string, unknown>;

function createCloud(client: CookieClient, projectId: string, name: string, credentials: CloudInput) {
  return gql<{ createCloudAuth: { cloudAuth: CloudAuthView } }>(client, CREATE_CLOUD, {
    input: { projectId, name, ...credentials },
  });
}

function createRegistry(
  client: CookieClient,
  projectId: string,
  name: string,
  login: Record<string, unknown>,
) {
  return gql<{ createRegistryAuth: { registryAuth: RegistryAuthView } }>(client, CREATE_REGISTRY, {
    input: { projectId, name, ...login },
  });
}

/** DigitalOcean credentials the fake accepts. */
function acceptedDigitalOcean(): CloudInput {
  const token = newSecret.digitalocean();
  fake.accept('digitalocean', token);
  return { digitalocean: { token } };
}

function firstError(result: {
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}) {
  expect(result.errors, 'expected the operation to fail').toBeDefined();
  return result.errors![0]!;
}

function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return server.database.orm.em.getConnection().execute(query, params) as Promise<T[]>;
}

async function setPlan(person: Person, plan: 'FREE' | 'PRO' | 'TEAM'): Promise<void> {
  await sql('update organization set plan = ? where id = ?', [plan, person.organizationId]);
}

/** A second project in the person's organization (projects cannot be created through the API yet). */
async function addProject(person: Person, code: string): Promise<string> {
  const [row] = await sql<{ id: string }>(
    `insert into project (id, organization_id, code, name, created_at) values (gen_random_uuid(), ?, ?, ?, now()) returning id`,
    [person.organizationId, code, code],
  );
  return row!.id;
}

const masked = (secret: string) => `••••${secret.slice(-4)}`;

describe('cloud auths', () => {
  it('checks each provider’s format and names the field at fault, before asking the provider', async () => {
    const owner = await signUpPerson(server, 'Vera');
    const aws = newSecret.aws();
    const cases: [string, CloudInput, string, RegExp][] = [
      ['no provider', {}, 'provider', /Choose a provider/],
      [
        'two providers',
        { linode: { token: newSecret.linode() }, vultr: { apiKey: newSecret.vultr() } },
        'provider',
        /one provider only, not linode and vultr/,
      ],
      [
        'a temporary AWS key',
        { aws: { ...aws, accessKeyId: `ASIA${aws.accessKeyId.slice(4)}` } },
        'aws.accessKeyId',
        /temporary access key ID/,
      ],
      [
        'a short AWS key id',
        { aws: { ...aws, accessKeyId: 'AKIA1234' } },
        'aws.accessKeyId',
        /starting with AKIA/,
      ],
      [
        'an AWS secret cut short',
        { aws: { ...aws, secretAccessKey: aws.secretAccessKey.slice(0, 39) } },
        'aws.secretAccessKey',
        /40 letters, digits/,
      ],
      [
        'a mistyped role ARN',
        { aws: { ...aws, roleArn: 'arn:aws:iam::1234:role/daestro' } },
        'aws.roleArn',
        /role ARN looks like/,
      ],
      [
        'a DigitalOcean token',
        { digitalocean: { token: 'dop_v1_abc' } },
        'digitalocean.token',
        /dop_v1_ followed by 64/,
      ],
      [
        'an empty Linode token',
        { linode: { token: '   ' } },
        'linode.token',
        /Enter the personal access token/,
      ],
      [
        'a Linode token in capitals',
        { linode: { token: newSecret.linode().toUpperCase() } },
        'linode.token',
        /64 characters 0-9 and a-f/,
      ],
      [
        'a Vultr key in lower case',
        { vultr: { apiKey: newSecret.vultr().toLowerCase() } },
        'vultr.apiKey',
        /36 capital/,
      ],
    ];
    const asked = fake.requests.length;
    for (const [label, credentials, field, message] of cases) {
      const error = firstError(await createCloud(owner.client, owner.projectId, 'prod', credentials));
      expect(error.extensions, label).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error.message, label).toMatch(message);
    }
    const badName = firstError(
      await createCloud(owner.client, owner.projectId, 'my prod', acceptedDigitalOcean()),
    );
    expect(badName.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(badName.message).toContain('letters, digits and hyphens');
    expect(fake.requests.length).toBe(asked);
  });

  it('stores verified credentials of every provider; lists show only the redacted view', async () => {
    const owner = await signUpPerson(server, 'Wes');
    await setPlan(owner, 'TEAM');
    const aws = newSecret.aws();
    fake.accept('aws', aws.secretAccessKey, aws.accessKeyId);
    const roleArn = 'arn:aws:iam::123456789012:role/batch/daestro';
    const digitalocean = newSecret.digitalocean();
    const linode = newSecret.linode();
    const vultr = newSecret.vultr();
    fake.accept('digitalocean', digitalocean);
    fake.accept('linode', linode);
    fake.accept('vultr', vultr);

    const asked = fake.requests.length;
    const created = [
      await createCloud(owner.client, owner.projectId, 'aws-prod', { aws: { ...aws, roleArn } }),
      // Pasted with whitespace around it: trimmed.
      await createCloud(owner.client, owner.projectId, 'do-main', {
        digitalocean: { token: ` ${digitalocean}\n` },
      }),
      await createCloud(owner.client, owner.projectId, 'linode', { linode: { token: linode } }),
      await createCloud(owner.client, owner.projectId, 'vultr', { vultr: { apiKey: vultr } }),
    ].map((result) => {
      expect(result.errors).toBeUndefined();
      return result.data!.createCloudAuth.cloudAuth;
    });

    const expected = [
      { name: 'aws-prod', provider: 'AWS', roleArn, secret: aws.secretAccessKey, by: 'AWS' },
      { name: 'do-main', provider: 'DIGITALOCEAN', roleArn: null, secret: digitalocean, by: 'DigitalOcean' },
      { name: 'linode', provider: 'LINODE', roleArn: null, secret: linode, by: 'Linode' },
      { name: 'vultr', provider: 'VULTR', roleArn: null, secret: vultr, by: 'Vultr' },
    ];
    created.forEach((cloudAuth, index) => {
      const { secret, by, ...fields } = expected[index]!;
      expect(cloudAuth).toMatchObject({
        ...fields,
        maskedSecret: masked(secret),
        verification: 'VERIFIED',
        verificationMessage: `${by} accepted these credentials.`,
        createdBy: { id: owner.id },
        usedBy: [],
      });
      expect(cloudAuth.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    });
    expect(new Set(created.map((cloudAuth) => cloudAuth.fingerprint)).size).toBe(4);

    // One read-only call per credential, to the configured endpoint, carrying the credential.
    expect(
      fake.requests.slice(asked).map(({ provider, method, path }) => `${provider} ${method} ${path}`),
    ).toEqual([
      'aws POST /aws/',
      'digitalocean GET /digitalocean/v2/regions?per_page=1',
      'linode GET /linode/v4/linode/instances?page_size=25',
      'vultr GET /vultr/v2/instances?per_page=1',
    ]);
    expect(fake.requests[asked]!.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${aws.accessKeyId}/\\d{8}/us-east-1/ec2/aws4_request,`),
    );
    expect(fake.requests[asked + 1]!.authorization).toBe(`Bearer ${digitalocean}`);

    const listed = await gql<{ cloudAuths: CloudAuthView[] }>(owner.client, CLOUD_AUTHS, {
      projectId: owner.projectId,
    });
    expect(listed.data!.cloudAuths).toEqual(created);

    // The same token under another name: the fingerprint shows it is the same.
    const again = await createCloud(owner.client, owner.projectId, 'do-copy', {
      digitalocean: { token: digitalocean },
    });
    expect(again.data!.createCloudAuth.cloudAuth.fingerprint).toBe(created[1]!.fingerprint);

    // At rest, only the ciphertext: no column holds the plaintext.
    const rows = await sql<Record<string, unknown>>('select * from cloud_auth where project_id = ?', [
      owner.projectId,
    ]);
    const stored = JSON.stringify(rows);
    for (const secret of [aws.accessKeyId, aws.secretAccessKey, digitalocean, linode, vultr]) {
      expect(stored).not.toContain(secret);
    }
  });

  it('refuses credentials the provider rejects and stores nothing', async () => {
    const owner = await signUpPerson(server, 'Rita');
    await setPlan(owner, 'TEAM');
    const unknownKey = newSecret.aws();
    const wrongSecret = newSecret.aws();
    fake.accept('aws', newSecret.aws().secretAccessKey, wrongSecret.accessKeyId);
    const withoutPermission = newSecret.aws();
    fake.acceptWithoutPermission('aws', withoutPermission.secretAccessKey, withoutPermission.accessKeyId);
    const linode = newSecret.linode();
    fake.acceptWithoutPermission('linode', linode);

    const cases: [CloudInput, RegExp, string | undefined][] = [
      [{ aws: unknownKey }, /^AWS refused this access key: .* \(AuthFailure\)$/, undefined],
      // The right key id with a wrong secret: the signature does not verify.
      [{ aws: wrongSecret }, /^AWS refused this access key: .* \(AuthFailure\)$/, undefined],
      [{ aws: withoutPermission }, /refused ec2:DescribeRegions.*\(UnauthorizedOperation\)$/, undefined],
      [
        { digitalocean: { token: newSecret.digitalocean() } },
        /^DigitalOcean refused this token/,
        'digitalocean.token',
      ],
      [
        { linode: { token: linode } },
        /^Linode accepted this token but refused to list Linodes/,
        'linode.token',
      ],
      [{ vultr: { apiKey: newSecret.vultr() } }, /^Vultr refused this API key: .*IP address/, 'vultr.apiKey'],
    ];
    for (const [credentials, message, field] of cases) {
      const error = firstError(await createCloud(owner.client, owner.projectId, 'rejected', credentials));
      expect(error.message).toMatch(message);
      expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', ...(field && { field }) });
    }
    expect(await sql('select id from cloud_auth where project_id = ?', [owner.projectId])).toEqual([]);
  });

  it('keeps credentials it could not check as UNREACHABLE: timeout, outage, dropped connection', async () => {
    const owner = await signUpPerson(server, 'Uma');
    await setPlan(owner, 'TEAM');
    const cases: [
      CloudInput,
      'digitalocean' | 'linode' | 'vultr',
      'hang' | 'down' | 'reset',
      string | RegExp,
    ][] = [
      [
        { digitalocean: { token: newSecret.digitalocean() } },
        'digitalocean',
        'hang',
        `Not verified: DigitalOcean did not answer within ${CHECK_TIMEOUT_MS / 1000} s.`,
      ],
      [
        { linode: { token: newSecret.linode() } },
        'linode',
        'down',
        'Not verified: Linode answered HTTP 503.',
      ],
      [
        { vultr: { apiKey: newSecret.vultr() } },
        'vultr',
        'reset',
        /^Not verified: could not connect to Vultr \(\w+\)\.$/,
      ],
    ];
    try {
      for (const [credentials, provider, outage, message] of cases) {
        fake.outage(provider, outage);
        const startedAt = Date.now();
        const result = await createCloud(owner.client, owner.projectId, `${provider}-${outage}`, credentials);
        const elapsed = Date.now() - startedAt;
        expect(result.errors).toBeUndefined();
        const cloudAuth = result.data!.createCloudAuth.cloudAuth;
        expect(cloudAuth.verification).toBe('UNREACHABLE');
        expect(cloudAuth.verificationMessage).toMatch(message);
        if (outage === 'hang') {
          expect(elapsed).toBeGreaterThanOrEqual(CHECK_TIMEOUT_MS);
          expect(elapsed).toBeLessThan(CHECK_TIMEOUT_MS + 3_000);
        }
      }
    } finally {
      for (const provider of ['digitalocean', 'linode', 'vultr'] as const) fake.outage(provider, undefined);
    }
  });

  it('lets viewers read, members create; unverified people and READ-only tokens cannot create', async () => {
    const owner = await signUpPerson(server, 'Olga');
    await setPlan(owner, 'TEAM');
    const member = await signUpPerson(server, 'Max');
    const viewer = await signUpPerson(server, 'Val');
    await joinOrganization(server, owner, owner.organizationId, member, 'MEMBER');
    await joinOrganization(server, owner, owner.organizationId, viewer, 'VIEWER');

    const byMember = await createCloud(member.client, owner.projectId, 'from-member', acceptedDigitalOcean());
    expect(byMember.errors).toBeUndefined();
    const cloudAuth = byMember.data!.createCloudAuth.cloudAuth;
    expect(cloudAuth.createdBy).toEqual({ id: member.id });

    const asked = fake.requests.length;
    const listedByViewer = await gql<{ cloudAuths: CloudAuthView[] }>(viewer.client, CLOUD_AUTHS, {
      projectId: owner.projectId,
    });
    expect(listedByViewer.data!.cloudAuths.map((item) => item.name)).toEqual(['from-member']);
    const viewerCreates = firstError(
      await createCloud(viewer.client, owner.projectId, 'no', acceptedDigitalOcean()),
    );
    expect(viewerCreates.extensions?.code).toBe('FORBIDDEN');
    const viewerDeletes = firstError(await gql(viewer.client, DELETE_CLOUD, { id: cloudAuth.id }));
    expect(viewerDeletes.extensions?.code).toBe('FORBIDDEN');
    const viewerRegistry = firstError(
      await createRegistry(viewer.client, owner.projectId, 'no', {
        username: 'ci',
        password: canary('registry-pass-1'),
      }),
    );
    expect(viewerRegistry.extensions?.code).toBe('FORBIDDEN');

    const unverified = await signUpPerson(server, 'Ulf', { verify: false });
    const notVerified = firstError(
      await createCloud(unverified.client, unverified.projectId, 'x', acceptedDigitalOcean()),
    );
    expect(notVerified).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringMatching(/^Verify your email/),
    });

    const readOnly = await apiTokenClient(server, owner, ['READ']);
    expect((await gql(readOnly, CLOUD_AUTHS, { projectId: owner.projectId })).errors).toBeUndefined();
    const readOnlyCreates = firstError(
      await createCloud(readOnly, owner.projectId, 'x', acceptedDigitalOcean()),
    );
    expect(readOnlyCreates).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringMatching(/WRITE scope/),
    });
    // None of the refused attempts reached the provider.
    expect(fake.requests.length).toBe(asked);

    const writer = await apiTokenClient(server, owner, ['READ', 'WRITE']);
    expect(
      (await createCloud(writer, owner.projectId, 'from-token', acceptedDigitalOcean())).errors,
    ).toBeUndefined();

    // A token limited to another project of the organization does not see this one.
    const otherProject = await addProject(owner, 'other');
    const scoped = await apiTokenClient(server, owner, ['READ', 'WRITE'], otherProject);
    expect(firstError(await gql(scoped, CLOUD_AUTHS, { projectId: owner.projectId })).extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect(firstError(await gql(scoped, DELETE_CLOUD, { id: cloudAuth.id })).extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect((await gql(scoped, CLOUD_AUTHS, { projectId: otherProject })).errors).toBeUndefined();
  });

  it('answers NOT_FOUND for another organization’s projects and credentials', async () => {
    const owner = await signUpPerson(server, 'Otto');
    const stranger = await signUpPerson(server, 'Sid');
    const cloudAuth = (await createCloud(owner.client, owner.projectId, 'mine', acceptedDigitalOcean())).data!
      .createCloudAuth.cloudAuth;
    const registryAuth = (
      await createRegistry(owner.client, owner.projectId, 'mine', {
        username: 'me',
        password: canary('hunter2-registry'),
      })
    ).data!.createRegistryAuth.registryAuth;

    const asked = fake.requests.length;
    const attempts = [
      await gql(stranger.client, CLOUD_AUTHS, { projectId: owner.projectId }),
      await gql(stranger.client, REGISTRY_AUTHS, { projectId: owner.projectId }),
      await createCloud(stranger.client, owner.projectId, 'theirs', acceptedDigitalOcean()),
      await createRegistry(stranger.client, owner.projectId, 'theirs', {
        username: 'x',
        password: canary('p4ssword-x'),
      }),
      await gql(stranger.client, DELETE_CLOUD, { id: cloudAuth.id }),
      await gql(stranger.client, DELETE_REGISTRY, { id: registryAuth.id }),
      await gql(stranger.client, DELETE_CLOUD, { id: 'not-a-uuid' }),
      await gql(stranger.client, CLOUD_AUTHS, { projectId: 'not-a-uuid' }),
    ];
    for (const result of attempts) expect(firstError(result).extensions?.code).toBe('NOT_FOUND');
    expect(fake.requests.length).toBe(asked);
    // Both are still there for their owner.
    expect(
      (await gql<{ cloudAuths: unknown[] }>(owner.client, CLOUD_AUTHS, { projectId: owner.projectId })).data!
        .cloudAuths,
    ).toHaveLength(1);
  });

  it('counts credentials per organization against its plan, before asking the provider', async () => {
    const owner = await signUpPerson(server, 'Lena');
    const second = await addProject(owner, 'second');
    const first = await createCloud(owner.client, owner.projectId, 'only-one', acceptedDigitalOcean());
    expect(first.errors).toBeUndefined();
    const asked = fake.requests.length;
    const overLimit = firstError(await createCloud(owner.client, second, 'one-more', acceptedDigitalOcean()));
    expect(overLimit).toMatchObject({
      message: 'The FREE plan allows 1 cloud auths; this organization has 1. Remove one or change plans.',
      extensions: { code: 'LIMIT_EXCEEDED', limit: 1, name: 'cloudAuths', plan: 'FREE' },
    });
    expect(fake.requests.length).toBe(asked);

    expect(
      (
        await createRegistry(owner.client, second, 'hub', {
          username: 'me',
          password: canary('first-password'),
        })
      ).errors,
    ).toBeUndefined();
    const registryOver = firstError(
      await createRegistry(owner.client, owner.projectId, 'ghcr', {
        username: 'me',
        password: canary('second-password'),
      }),
    );
    expect(registryOver.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', name: 'registryAuths' });

    // Deleting one makes room again.
    expect(
      (await gql(owner.client, DELETE_CLOUD, { id: first.data!.createCloudAuth.cloudAuth.id })).errors,
    ).toBeUndefined();
    expect(
      (await createCloud(owner.client, second, 'one-more', acceptedDigitalOcean())).errors,
    ).toBeUndefined();
  });

  it('keeps names unique per project', async () => {
    const owner = await signUpPerson(server, 'Nils');
    await setPlan(owner, 'TEAM');
    const other = await addProject(owner, 'other');
    expect(
      (await createCloud(owner.client, owner.projectId, 'prod', acceptedDigitalOcean())).errors,
    ).toBeUndefined();
    const taken = firstError(
      await createCloud(owner.client, owner.projectId, 'prod', acceptedDigitalOcean()),
    );
    expect(taken).toMatchObject({
      message:
        'This project already has a cloud auth named prod: pick another name, or delete that one first.',
      extensions: { code: 'CONFLICT', field: 'name' },
    });
    expect((await createCloud(owner.client, other, 'prod', acceptedDigitalOcean())).errors).toBeUndefined();
    expect(
      (
        await createRegistry(owner.client, owner.projectId, 'prod', {
          username: 'u',
          password: canary('registry-pw-prod'),
        })
      ).errors,
    ).toBeUndefined();
    const registryTaken = firstError(
      await createRegistry(owner.client, owner.projectId, 'prod', {
        username: 'u',
        password: canary('registry-pw-prod-2'),
      }),
    );
    expect(registryTaken.extensions).toEqual({ code: 'CONFLICT', field: 'name' });
  });
});

describe('registry auths', () => {
  it('normalizes the registry address and shows the password only masked', async () => {
    const owner = await signUpPerson(server, 'Ria');
    await setPlan(owner, 'TEAM');
    const token = canary(`ghp_${random(AWS_SECRET_ALPHABET.slice(0, 62), 36)}`);
    const cases: [string | undefined, string][] = [
      [undefined, ''],
      ['docker.io', ''],
      ['https://index.docker.io/v1/', ''],
      ['https://GHCR.io/', 'ghcr.io'],
      ['registry.example.com:5000', 'registry.example.com:5000'],
    ];
    for (const [index, [registryUrl, stored]] of cases.entries()) {
      const result = await createRegistry(owner.client, owner.projectId, `registry-${index}`, {
        ...(registryUrl !== undefined && { registryUrl }),
        username: 'octocat',
        password: token,
      });
      expect(result.errors).toBeUndefined();
      expect(result.data!.createRegistryAuth.registryAuth).toMatchObject({
        registryUrl: stored,
        username: 'octocat',
        maskedSecret: masked(token),
        usedBy: [],
      });
    }
    const short = await createRegistry(owner.client, owner.projectId, 'short', {
      username: 'me',
      password: canary('tiny-pw-123'),
    });
    // Shorter than 16 characters: no tail is shown, and nothing says how long it is.
    expect(short.data!.createRegistryAuth.registryAuth.maskedSecret).toBe('••••••••');

    const listed = await gql<{ registryAuths: RegistryAuthView[] }>(owner.client, REGISTRY_AUTHS, {
      projectId: owner.projectId,
    });
    expect(listed.data!.registryAuths.map((item) => item.name)).toEqual([
      'registry-0',
      'registry-1',
      'registry-2',
      'registry-3',
      'registry-4',
      'short',
    ]);
    expect(new Set(listed.data!.registryAuths.slice(0, 5).map((item) => item.fingerprint)).size).toBe(1);
  });

  it('names the field at fault', async () => {
    const owner = await signUpPerson(server, 'Fay');
    const password = canary('a-registry-password');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { registryUrl: `https://octocat:${password}@ghcr.io`, username: 'octocat', password },
        'registryUrl',
        /Leave the username and password out/,
      ],
      [
        { registryUrl: 'ghcr.io/octocat/app', username: 'octocat', password },
        'registryUrl',
        /registry host \(and port\)/,
      ],
      [{ registryUrl: 'ftp://ghcr.io', username: 'octocat', password }, 'registryUrl', /registry host/],
      [{ username: '  ', password }, 'username', /Enter the username/],
      [{ username: 'octocat', password: '\n' }, 'password', /Enter the password or access token/],
    ];
    for (const [login, field, message] of cases) {
      const error = firstError(await createRegistry(owner.client, owner.projectId, 'ghcr', login));
      expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
      expect(error.message).toMatch(message);
    }
  });
});

describe('deleting and auditing', () => {
  it('audits creation and deletion by whom, from where, without the secret; deletion destroys the data key', async () => {
    const owner = await signUpPerson(server, 'Ada');
    const cloudAuth = (await createCloud(owner.client, owner.projectId, 'audited', acceptedDigitalOcean()))
      .data!.createCloudAuth.cloudAuth;
    const registryAuth = (
      await createRegistry(owner.client, owner.projectId, 'audited', {
        username: 'ada',
        password: canary('ada-registry-token'),
      })
    ).data!.createRegistryAuth.registryAuth;
    const [sealed] = await sql<{ ciphertext: string }>(
      'select credential_ciphertext as ciphertext from cloud_auth where id = ?',
      [cloudAuth.id],
    );
    const dataKeyId = sealed!.ciphertext.split('.')[1]!;
    expect(await sql('select id from data_key where id = ?', [dataKeyId])).toHaveLength(1);

    expect((await gql(owner.client, DELETE_CLOUD, { id: cloudAuth.id })).data).toEqual({
      deleteCloudAuth: { deletedCloudAuthId: cloudAuth.id },
    });
    expect((await gql(owner.client, DELETE_REGISTRY, { id: registryAuth.id })).errors).toBeUndefined();
    expect(await sql('select id from data_key where id = ?', [dataKeyId])).toEqual([]);
    expect(firstError(await gql(owner.client, DELETE_CLOUD, { id: cloudAuth.id })).extensions?.code).toBe(
      'NOT_FOUND',
    );

    const events = await sql<{
      action: string;
      actor_id: string;
      ip: string;
      details: Record<string, unknown>;
    }>(
      `select action, actor_id, ip, details from audit_event
       where organization_id = ? and (action like 'cloud_auth.%' or action like 'registry_auth.%') order by created_at, id`,
      [owner.organizationId],
    );
    expect(events.map((event) => event.action)).toEqual([
      'cloud_auth.created',
      'registry_auth.created',
      'cloud_auth.deleted',
      'registry_auth.deleted',
    ]);
    for (const event of events) {
      expect(event.actor_id).toBe(owner.id);
      expect(event.ip).toBe(owner.client.address);
      expect(event.details).toMatchObject({ name: 'audited', projectId: owner.projectId });
    }
    expect(events[0]!.details).toMatchObject({
      credentialId: cloudAuth.id,
      provider: 'DIGITALOCEAN',
      verification: 'VERIFIED',
    });
    expect(events[1]!.details).toMatchObject({
      credentialId: registryAuth.id,
      registryUrl: '',
      username: 'ada',
    });
  });

  it('refuses to delete credentials in use, naming the users', async () => {
    const owner = await signUpPerson(server, 'Cleo');
    const cloudAuth = (await createCloud(owner.client, owner.projectId, 'in-use', acceptedDigitalOcean()))
      .data!.createCloudAuth.cloudAuth;
    const registryAuth = (
      await createRegistry(owner.client, owner.projectId, 'in-use', {
        username: 'cleo',
        password: canary('cleo-registry-token'),
      })
    ).data!.createRegistryAuth.registryAuth;

    // Workloads that use them, stored directly: what matters here is what credentials see.
    const em = server.database.orm.em.fork();
    const environment = em.create(ComputeEnvironment, {
      project: owner.projectId,
      name: 'gpu-pool',
      kind: ComputeEnvironmentKind.CLOUD,
      slotsPerSpawn: 1,
      cloudAuth: cloudAuth.id,
      region: 'ams3',
      instanceType: 's-1vcpu-1gb',
      maxSpawns: 2,
    });
    const definitionVersion = (version: number, active: boolean) =>
      em.create(JobDefinition, {
        project: owner.projectId,
        name: 'train',
        version,
        type: JobDefinitionType.DOCKER,
        image: 'ghcr.io/cleo/train:1',
        registryAuth: registryAuth.id,
        command: [],
        parameters: {},
        env: [],
        cpu: 1,
        memoryMiB: 512,
        timeoutSeconds: 0,
        retryPolicy: {
          attempts: 1,
          backoff: BackoffKind.FIXED,
          baseSeconds: 0,
          capSeconds: 0,
          jitter: false,
          retryOn: [],
          exitCodes: [],
        },
        privileged: false,
        active,
      });
    // A deactivated version runs nothing new: it does not count as a use.
    definitionVersion(1, false);
    const newest = definitionVersion(2, true);
    await em.flush();

    const cloudInUse = firstError(await gql(owner.client, DELETE_CLOUD, { id: cloudAuth.id }));
    expect(cloudInUse).toMatchObject({
      message:
        'Cloud auth in-use is used by compute environment gpu-pool. Switch it to other credentials or delete it first.',
      extensions: {
        code: 'CONFLICT',
        usedBy: [{ kind: 'COMPUTE_ENVIRONMENT', id: environment.id, name: 'gpu-pool' }],
      },
    });
    const registryInUse = firstError(await gql(owner.client, DELETE_REGISTRY, { id: registryAuth.id }));
    expect(registryInUse.extensions).toMatchObject({
      code: 'CONFLICT',
      usedBy: [{ kind: 'JOB_DEFINITION', id: newest.id, name: 'train' }],
    });
    const listed = await gql<{ cloudAuths: CloudAuthView[] }>(owner.client, CLOUD_AUTHS, {
      projectId: owner.projectId,
    });
    expect(listed.data!.cloudAuths[0]!.usedBy).toEqual([
      { kind: 'COMPUTE_ENVIRONMENT', id: environment.id, name: 'gpu-pool' },
    ]);

    await em.remove(environment).flush();
    expect((await gql(owner.client, DELETE_CLOUD, { id: cloudAuth.id })).errors).toBeUndefined();
  });
});

describe('secrecy', () => {
  it('no secret typed in comes back in any response, error or server log line', () => {
    expect(canaries.length).toBeGreaterThan(30);
    expect(transcript.length).toBeGreaterThan(50);
    const logText = logLines.map((line) => JSON.stringify(line)).join('\n');
    expect(logText.length).toBeGreaterThan(0);
    for (const secret of canaries) {
      const forms = [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
      for (const form of forms) {
        expect(
          transcript.filter((response) => response.includes(form)),
          `a response holds ${form}`,
        ).toEqual([]);
        expect(logText.includes(form), `a log line holds ${form}`).toBe(false);
      }
    }
  });
});
