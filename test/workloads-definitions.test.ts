import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokenClient, joinOrganization, signUpPerson, type Person } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';
import {
  CREATE_DEFINITION,
  createBashDefinition,
  createQueue,
  firstError,
  gql,
  ok,
  sql,
  submitJob,
  uniqueName,
} from './support/workloads.js';

// Job definitions through the full server: validation, versions, references, roles,
// and environment variables whose sensitive values never come back.

let server: TestServer;
let owner: Person;
beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpPerson(server, 'Dora');
});
afterAll(() => server?.stop());

const DEFINITION_VIEW = `id name version active reference type image script command cpu memoryMiB timeoutSeconds privileged
  parameters { key value } env { name sensitive value maskedValue fingerprint source }
  retryPolicy { attempts backoff baseSeconds capSeconds jitter retryOn exitCodes }`;
const DEFINITION = `query D($id: ID!) { jobDefinition(id: $id) { ${DEFINITION_VIEW} } }`;
const UPDATE = `mutation U($input: UpdateJobDefinitionInput!) {
  updateJobDefinition(input: $input) { jobDefinition { ${DEFINITION_VIEW} } warnings } }`;
const LIST = `query L($projectId: ID!, $filter: JobDefinitionFilter) {
  jobDefinitions(projectId: $projectId, filter: $filter, first: 100) { edges { node { name version active } } } }`;
const VERSIONS = `query V($projectId: ID!, $name: String!) {
  jobDefinitionVersions(projectId: $projectId, name: $name) { version active } }`;
const DEACTIVATE = `mutation X($input: DeactivateJobDefinitionInput!) {
  deactivateJobDefinition(input: $input) { jobDefinitions { version active } } }`;

interface EnvView {
  name: string;
  sensitive: boolean;
  value: string | null;
  maskedValue: string;
  fingerprint: string;
  source: string;
}

function create(person: Person, input: Record<string, unknown>) {
  return gql<{ createJobDefinition: { jobDefinition: { id: string }; warnings: string[] } }>(
    person.client,
    CREATE_DEFINITION,
    {
      input: { projectId: person.projectId, name: uniqueName('def'), type: 'BASH', script: 'true', ...input },
    },
  );
}

describe('job definitions', () => {
  it('refuses each invalid field with the field named and a message saying what is accepted', async () => {
    const person = await signUpPerson(server, 'Val');
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['a name with a space', { name: 'my job' }, 'name', /1 to 64 letters, digits and hyphens/],
      ['a name too long', { name: 'x'.repeat(65) }, 'name', /1 to 64/],
      ['BASH without a script', { script: null }, 'script', /needs a script/],
      ['BASH with an image', { image: 'alpine:3.20' }, 'image', /runs a script, not an image/],
      ['DOCKER without an image', { type: 'DOCKER', script: null }, 'image', /needs an image/],
      ['DOCKER with a script', { type: 'DOCKER', image: 'alpine', script: 'true' }, 'script', /not a script/],
      ['an image with spaces', { type: 'DOCKER', image: 'alpine 3', script: null }, 'image', /no spaces/],
      ['cpu below 0.125', { cpu: 0.1 }, 'cpu', /from 0.125 to 64/],
      ['cpu above 64', { cpu: 65 }, 'cpu', /from 0.125 to 64/],
      ['memory below 16 MiB', { memoryMiB: 8 }, 'memoryMiB', /from 16 to 262144 MiB/],
      ['a negative timeout', { timeoutSeconds: -1 }, 'timeoutSeconds', /from 0/],
      [
        'an env name with a dash',
        { env: [{ name: 'MY-VAR', value: 'x' }] },
        'env',
        /not a valid environment variable name/,
      ],
      [
        'an env name starting with a digit',
        { env: [{ name: '1X', value: 'x' }] },
        'env',
        /not starting with a digit/,
      ],
      ['a reserved env name', { env: [{ name: 'DAESTRO_JOB_ID', value: 'x' }] }, 'env', /reserved/],
      [
        'an env var given twice',
        {
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        'env',
        /given twice/,
      ],
      ['an empty env value', { env: [{ name: 'A', value: '' }] }, 'env', /is empty/],
      [
        'a parameter key with a space',
        { parameters: [{ key: 'a b', value: 'x' }] },
        'parameters',
        /not a valid parameter key/,
      ],
      ['zero attempts', { retryPolicy: { attempts: 0 } }, 'retryPolicy.attempts', /from 1 to 10/],
      ['eleven attempts', { retryPolicy: { attempts: 11 } }, 'retryPolicy.attempts', /from 1 to 10/],
      [
        'a cap below the base',
        { retryPolicy: { baseSeconds: 60, capSeconds: 30 } },
        'retryPolicy.capSeconds',
        /at least baseSeconds/,
      ],
      [
        'exit codes without APP_FAILURE',
        { retryPolicy: { retryOn: ['TIMEOUT'], exitCodes: [3] } },
        'retryPolicy.exitCodes',
        /add APP_FAILURE/,
      ],
      [
        'exit code 0',
        { retryPolicy: { retryOn: ['APP_FAILURE'], exitCodes: [0] } },
        'retryPolicy.exitCodes',
        /from 1 to 255/,
      ],
      ['privileged BASH', { privileged: true }, 'privileged', /Only DOCKER/],
    ];
    for (const [label, input, field, message] of cases) {
      const error = firstError(await create(person, input));
      expect(error.extensions, label).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error.message, label).toMatch(message);
    }
    const [row] = await sql<{ count: string }>(
      server,
      'select count(*) from job_definition where project_id = ?',
      [person.projectId],
    );
    expect(Number(row!.count)).toBe(0);
  });

  it('keeps names unique per project', async () => {
    const name = uniqueName('dup');
    expect((await create(owner, { name })).errors).toBeUndefined();
    expect(firstError(await create(owner, { name })).extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'name',
    });
  });

  it('stores every env value sealed and never returns a sensitive one', async () => {
    const secret = `sk-live-${'s3cr3t'.repeat(4)}-tail`;
    const created = await create(owner, {
      env: [
        { name: 'API_KEY', value: secret, sensitive: true },
        { name: 'MODE', value: 'fast' },
      ],
    });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createJobDefinition.jobDefinition.id;
    const read = await gql<{ jobDefinition: { env: EnvView[] } }>(owner.client, DEFINITION, { id });
    expect(JSON.stringify(read)).not.toContain(secret);
    expect(read.data!.jobDefinition.env).toEqual([
      expect.objectContaining({
        name: 'API_KEY',
        sensitive: true,
        value: null,
        maskedValue: '••••tail',
        source: 'DEFINITION',
      }),
      expect.objectContaining({ name: 'MODE', sensitive: false, value: 'fast' }),
    ]);
    const [row] = await sql<{ env: unknown }>(server, 'select env from job_definition where id = ?', [id]);
    expect(JSON.stringify(row!.env)).not.toContain(secret);
    expect(JSON.stringify(row!.env)).not.toContain('fast');

    // An update may leave a value out to keep it: same fingerprint, still never shown.
    const apiKey = read.data!.jobDefinition.env[0]!;
    const updated = await gql<{
      updateJobDefinition: { jobDefinition: { version: number; env: EnvView[] } };
    }>(owner.client, UPDATE, {
      input: {
        definition: id,
        env: [
          { name: 'API_KEY', sensitive: true },
          { name: 'EXTRA', value: 'x' },
        ],
      },
    });
    expect(JSON.stringify(updated)).not.toContain(secret);
    expect(updated.data!.updateJobDefinition.jobDefinition.env).toEqual([
      expect.objectContaining({ name: 'API_KEY', value: null, fingerprint: apiKey.fingerprint }),
      expect.objectContaining({ name: 'EXTRA', value: 'x' }),
    ]);
    const missing = firstError(
      await gql(owner.client, UPDATE, {
        input: { definition: id, env: [{ name: 'NEW_ONE', sensitive: true }] },
      }),
    );
    expect(missing).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'env' } });
    expect(missing.message).toMatch(/Give a value for the environment variable NEW_ONE/);
  });

  it('writes a new version on every update; jobs keep the version they were submitted with', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId, {
      command: ['Param::word'],
      parameters: [{ key: 'word', value: 'one' }],
      retryPolicy: {
        attempts: 3,
        backoff: 'FIXED',
        baseSeconds: 5,
        capSeconds: 5,
        retryOn: ['APP_FAILURE'],
        exitCodes: [2, 1],
      },
    });
    expect(definition).toMatchObject({ version: 1, reference: `default::${definition.name}:1` });
    const queue = await createQueue(owner.client, owner.projectId);
    const job = await submitJob(owner.client, { definition: definition.id, queue: queue.id });

    const updated = await ok<{ updateJobDefinition: { jobDefinition: Record<string, unknown> } }>(
      owner.client,
      UPDATE,
      {
        input: { definition: definition.id, script: 'echo two', memoryMiB: 512 },
      },
    );
    expect(updated.updateJobDefinition.jobDefinition).toMatchObject({
      name: definition.name,
      version: 2,
      script: 'echo two',
      memoryMiB: 512,
      // Unchanged fields are carried over.
      command: ['Param::word'],
      parameters: [{ key: 'word', value: 'one' }],
      retryPolicy: { attempts: 3, backoff: 'FIXED', retryOn: ['APP_FAILURE'], exitCodes: [1, 2] },
    });
    const pinned = await ok<{ job: { definition: { version: number; script: string } } }>(
      owner.client,
      'query J($id: ID!) { job(id: $id) { definition { version script } } }',
      { id: job.id },
    );
    expect(pinned.job.definition).toEqual({ version: 1, script: 'echo "$@"' });

    const versions = await ok<{ jobDefinitionVersions: { version: number }[] }>(owner.client, VERSIONS, {
      projectId: owner.projectId,
      name: definition.name,
    });
    expect(versions.jobDefinitionVersions.map((version) => version.version)).toEqual([2, 1]);

    // Switching type drops what only the old type had.
    const docker = await ok<{ updateJobDefinition: { jobDefinition: Record<string, unknown> } }>(
      owner.client,
      UPDATE,
      {
        input: { definition: `default::${definition.name}`, type: 'DOCKER', image: 'alpine:3.20' },
      },
    );
    expect(docker.updateJobDefinition.jobDefinition).toMatchObject({
      version: 3,
      type: 'DOCKER',
      script: null,
    });
  });

  it('resolves references project::name and project::name:version, and lists the newest active version', async () => {
    const definition = await createBashDefinition(owner.client, owner.projectId);
    await ok(owner.client, UPDATE, { input: { definition: definition.id, script: 'echo v2' } });
    const byReference = async (reference: string) =>
      (await gql<{ jobDefinition: { version: number } }>(owner.client, DEFINITION, { id: reference })).data
        ?.jobDefinition.version;
    expect(await byReference(`default::${definition.name}`)).toBe(2);
    expect(await byReference(`default::${definition.name}:1`)).toBe(1);
    expect(
      firstError(await gql(owner.client, DEFINITION, { id: `default::${definition.name}:9` })).extensions,
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(
      firstError(await gql(owner.client, DEFINITION, { id: `nope::${definition.name}` })).extensions,
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(
      firstError(await gql(owner.client, DEFINITION, { id: 'not a reference' })).extensions,
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'id',
    });

    const listed = async (filter: Record<string, unknown>) =>
      (
        await ok<{ jobDefinitions: { edges: { node: { name: string; version: number } }[] } }>(
          owner.client,
          LIST,
          {
            projectId: owner.projectId,
            filter: { text: definition.name, ...filter },
          },
        )
      ).jobDefinitions.edges.map((edge) => edge.node);
    expect(await listed({})).toEqual([{ name: definition.name, version: 2, active: true }]);

    // Deactivating v2 leaves v1 as the newest active version; references follow.
    await ok(owner.client, DEACTIVATE, { input: { definition: `default::${definition.name}:2` } });
    expect(await listed({})).toEqual([{ name: definition.name, version: 1, active: true }]);
    expect(await listed({ includeInactive: true })).toEqual([
      { name: definition.name, version: 2, active: false },
    ]);
    expect(await byReference(`default::${definition.name}`)).toBe(1);

    const all = await ok<{
      deactivateJobDefinition: { jobDefinitions: { version: number; active: boolean }[] };
    }>(owner.client, DEACTIVATE, { input: { definition: definition.id, allVersions: true } });
    expect(all.deactivateJobDefinition.jobDefinitions).toEqual([
      { version: 2, active: false },
      { version: 1, active: false },
    ]);
    expect(await listed({})).toEqual([]);
  });

  it('pages definitions by name without gaps or repeats', async () => {
    const person = await signUpPerson(server, 'Pia');
    const names = Array.from({ length: 7 }, (_, index) => `page-${index}`);
    for (const name of names.toReversed())
      await createBashDefinition(person.client, person.projectId, { name });
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: {
        jobDefinitions: {
          edges: { node: { name: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      } = await ok(
        person.client,
        `query P($projectId: ID!, $after: String) { jobDefinitions(projectId: $projectId, first: 3, after: $after) {
            edges { node { name } } pageInfo { hasNextPage endCursor } } }`,
        { projectId: person.projectId, after },
      );
      seen.push(...page.jobDefinitions.edges.map((edge) => edge.node.name));
      if (!page.jobDefinitions.pageInfo.hasNextPage) break;
      after = page.jobDefinitions.pageInfo.endCursor;
    }
    expect(seen).toEqual(names);
  });

  it('pulls with a registry auth of its own project only, and audits its use', async () => {
    const registry = await ok<{ createRegistryAuth: { registryAuth: { id: string } } }>(
      owner.client,
      `mutation R($input: CreateRegistryAuthInput!) { createRegistryAuth(input: $input) { registryAuth { id } } }`,
      {
        input: {
          projectId: owner.projectId,
          name: uniqueName('ghcr'),
          registryUrl: 'ghcr.io',
          username: 'dora',
          password: 'ghp_registrypassword0123456789',
        },
      },
    );
    const registryAuthId = registry.createRegistryAuth.registryAuth.id;
    const docker = { type: 'DOCKER', image: 'ghcr.io/dora/tool:1', script: null, registryAuthId };
    const saved = await create(owner, docker);
    expect(saved.errors).toBeUndefined();
    const definitionId = saved.data!.createJobDefinition.jobDefinition.id;
    expect(
      await ok(
        owner.client,
        'query D($id: ID!) { jobDefinition(id: $id) { registryAuth { id username } } }',
        {
          id: definitionId,
        },
      ),
    ).toEqual({ jobDefinition: { registryAuth: { id: registryAuthId, username: 'dora' } } });
    const audited = await sql<{ details: { usedBy: { id: string } } }>(
      server,
      `select details from audit_event where action = 'registry_auth.used' and organization_id = ?`,
      [owner.organizationId],
    );
    expect(audited.map((event) => event.details.usedBy.id)).toContain(definitionId);

    const stranger = await signUpPerson(server, 'Sol');
    const foreign = firstError(await create(stranger, docker));
    expect(foreign.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets only owners and admins save a privileged definition, with a warning', async () => {
    const member = await signUpPerson(server, 'Max');
    await joinOrganization(server, owner, owner.organizationId, member, 'MEMBER');
    const docker = { type: 'DOCKER', image: 'alpine:3.20', script: null, privileged: true };
    const refused = firstError(await create({ ...member, projectId: owner.projectId }, docker));
    expect(refused).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(refused.message).toMatch(/owners and admins/);

    const saved = await create(owner, docker);
    expect(saved.errors).toBeUndefined();
    expect(saved.data!.createJobDefinition.warnings).toEqual([expect.stringMatching(/runs privileged/)]);
    // A member cannot write a new version of it either: it would be privileged too.
    const update = firstError(
      await gql(member.client, UPDATE, {
        input: { definition: saved.data!.createJobDefinition.jobDefinition.id, cpu: 2 },
      }),
    );
    expect(update.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('needs MEMBER and the WRITE scope to write, VIEWER and READ to read', async () => {
    const viewer = await signUpPerson(server, 'Vic');
    await joinOrganization(server, owner, owner.organizationId, viewer, 'VIEWER');
    const definition = await createBashDefinition(owner.client, owner.projectId);
    expect(firstError(await create({ ...viewer, projectId: owner.projectId }, {})).extensions).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await gql(viewer.client, DEFINITION, { id: definition.id })).errors).toBeUndefined();

    const readOnly = await apiTokenClient(server, owner, ['READ']);
    expect((await gql(readOnly, DEFINITION, { id: definition.id })).errors).toBeUndefined();
    expect(
      firstError(await gql(readOnly, UPDATE, { input: { definition: definition.id, cpu: 2 } })).extensions,
    ).toMatchObject({ code: 'FORBIDDEN' });
  });
});
