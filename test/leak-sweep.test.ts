import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSchema, isInputObjectType, isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../server/test/support/wait-for.js';
import { collect, registeredAgent } from './support/agent-protocol.js';
import { waitForEnd } from './support/agent-runtime.js';
import { startFakeCloudProvider, type FakeCloudProvider } from './support/cloud-provider.js';
import { CookieClient } from './support/http-session.js';
import { CanarySet, type Evidence } from './support/leak-scan.js';
import { captureLogs, type LogLineRecord } from './support/log-capture.js';
import { tokenOf, waitForMail } from './support/mail.js';
import { signUpPerson, type Person } from './support/people.js';
import {
  QueryWalk,
  introspect,
  mutationText,
  operationText,
  selectAll,
  splitWithinLimits,
  withinLimits,
  type Result,
  type Selection,
} from './support/query-walk.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createQueue, createSelfHostedEnvironment, socketFor, sql } from './support/workloads.js';

// Issue 4's leak sweep. Canaries (random secrets) go in through every operation that
// takes a secret; then every Query field is walked, as the owner and as an API token,
// with selections written from introspection, so a field added later is walked without
// anyone listing it. No canary, in any encoding, may come back in a response, an error,
// a subscription event, an audit event, a database row or a server log line.

/**
 * Query fields the walk cannot call, each with the reason. Keep this short: a field
 * listed here is not swept.
 */
const NOT_WALKED: Record<string, string> = {
  oauthSignUp: 'needs the ticket of a real GitHub/Google sign-in; a forged one is fed as a canary',
};

/** Input fields and arguments whose names say they carry a secret: each must be fed a canary. */
const SECRET_INPUT = /password$|token$|secret|apikey|accesskey|ticket$/i;

/** Objects the walk must have read, or "nothing leaked" would prove nothing about them. */
const TYPES_THAT_MUST_BE_WALKED = [
  'CloudAuth',
  'RegistryAuth',
  'EnvVar',
  'CronSchedule',
  'Job',
  'JobRun',
  'JobRunLogLine',
  'ComputeSpawn',
  'ApiToken',
  'Session',
  'AuditEvent',
];

/** Prints each secret as is, in base64 at two alignments and URL-encoded: the agent must mask them all. */
const BASH_PRINTING_ITS_SECRETS = [
  'urlencode() {',
  '  local s=$1 i c',
  '  for ((i = 0; i < ${#s}; i++)); do',
  '    c=${s:i:1}',
  '    case $c in [A-Za-z0-9._~-]) printf %s "$c" ;; *) printf \'%%%02X\' "\'$c" ;; esac',
  '  done',
  '  echo',
  '}',
  'for name in DEF_SECRET ADDED_SECRET JOB_SECRET; do',
  '  value=${!name}',
  '  echo "$name=$value"',
  '  printf %s "$value" | base64 -w0; echo',
  '  printf \'x%s\' "$value" | base64 -w0; echo',
  '  urlencode "$value"',
  '  echo "$name on stderr: $value" >&2',
  'done',
  'echo "GREETING=$GREETING JOB_NOTE=$JOB_NOTE"',
].join('\n');

let fake: FakeCloudProvider;
let server: TestServer;
let logLines: LogLineRecord[];
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeCloudProvider();
  const logs = captureLogs('debug');
  logLines = logs.lines;
  dataDir = await mkdtemp(path.join(tmpdir(), 'daestro-leak-sweep-'));
  server = await startTestServer({
    log: logs.log,
    env: {
      ...fake.env,
      LOG_LEVEL: 'debug',
      // A real agent inside the server runs a job that prints its secrets: the log masking is swept too.
      DAESTRO_EMBEDDED_AGENT: 'true',
      DAESTRO_DATA_DIR: dataDir,
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const canaries = new CanarySet();
const evidence: Evidence[] = [];
/** Every browser of the sweep: the session cookies they were given are canaries too. */
const browsers: CookieClient[] = [];
let schema: GraphQLSchema;
let walk: QueryWalk;

function record(source: string, result: Result): void {
  evidence.push({ source, text: JSON.stringify(result) });
  walk.learn(result.data);
}

function browser(headers: Record<string, string> = {}): CookieClient {
  const client = new CookieClient(server.url, headers);
  browsers.push(client);
  return client;
}

/** A mutation selecting all of its result (so a new payload field is swept too), recorded for the scan. */
async function mutate<T = Record<string, unknown>>(
  client: CookieClient,
  name: string,
  variables: Record<string, unknown>,
): Promise<Result & { data?: T | null }> {
  const result = (await client.graphql(mutationText(schema, name, variables), variables)) as Result;
  record(`mutation ${name}`, result);
  return result as Result & { data?: T | null };
}

async function succeeds<T = Record<string, unknown>>(
  client: CookieClient,
  name: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const result = await mutate<T>(client, name, variables);
  expect(result.errors, name).toBeUndefined();
  return result.data!;
}

/** A mutation that must be refused: its error message is swept for the canaries it was given. */
async function refused(
  client: CookieClient,
  name: string,
  variables: Record<string, unknown>,
): Promise<void> {
  const result = await mutate(client, name, variables);
  expect(result.errors, `${name} should have been refused`).toBeDefined();
}

/**
 * A mutation whose answer holds a secret shown this once (a token, a registration
 * token): not swept, since showing it is its job, but the secret becomes a canary
 * that no other answer may hold.
 */
async function issue(
  client: CookieClient,
  name: string,
  variables: Record<string, unknown>,
  secretOf: (data: Record<string, Record<string, unknown>>) => unknown,
): Promise<string> {
  const result = await client.graphql<Record<string, Record<string, unknown>>>(
    mutationText(schema, name, variables),
    variables,
  );
  expect(result.errors, name).toBeUndefined();
  walk.learn(result.data);
  return canaries.add(`${name} (issued)`, String(secretOf(result.data!)));
}

function randomOf(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

/** Sign-up, sign-in, password change and reset, email change: every password and link token. */
async function feedAccountSecrets(): Promise<Person> {
  const signUpPassword = canaries.fresh('SignUpInput.password');
  const person = await signUpPerson(server, 'Cato', { password: signUpPassword });
  browsers.push(person.client);
  const wrongPassword = { email: person.email, password: canaries.fresh('LogInInput.password (wrong)') };
  await refused(browser(), 'logIn', { input: wrongPassword });
  await refused(browser(), 'logIn', {
    input: {
      email: `nobody.${randomUUID()}@example.test`,
      password: canaries.fresh('LogInInput.password (no account)'),
    },
  });
  await succeeds(browser(), 'logIn', { input: { email: person.email, password: signUpPassword } });

  await refused(person.client, 'changePassword', {
    input: {
      currentPassword: canaries.fresh('ChangePasswordInput.currentPassword (wrong)'),
      newPassword: canaries.fresh('ChangePasswordInput.newPassword (refused)'),
    },
  });
  const changedPassword = canaries.fresh('ChangePasswordInput.newPassword');
  await succeeds(person.client, 'changePassword', {
    input: { currentPassword: signUpPassword, newPassword: changedPassword },
  });

  // A reset by mail from another browser, which is the person's session from then on.
  const askedAt = new Date();
  await succeeds(browser(), 'requestPasswordReset', { input: { email: person.email } });
  const resetMail = await waitForMail(server, person.email, /reset/i, { after: askedAt });
  const client = browser();
  await refused(client, 'resetPassword', {
    input: {
      token: canaries.fresh('ResetPasswordInput.token (forged)'),
      newPassword: canaries.fresh('ResetPasswordInput.newPassword (refused)'),
    },
  });
  const resetPassword = canaries.fresh('ResetPasswordInput.newPassword');
  await succeeds(client, 'resetPassword', {
    input: { token: tokenOf(resetMail.link), newPassword: resetPassword },
  });

  const email = `cato.${randomUUID()}@example.test`;
  await refused(client, 'changeEmail', {
    input: { currentPassword: canaries.fresh('ChangeEmailInput.currentPassword (wrong)'), newEmail: email },
  });
  const changedAt = new Date();
  await succeeds(client, 'changeEmail', { input: { currentPassword: resetPassword, newEmail: email } });
  const verification = await waitForMail(server, email, /verify/i, { after: changedAt });
  await refused(client, 'verifyEmail', {
    input: { token: canaries.fresh('VerifyEmailInput.token (forged)') },
  });
  await succeeds(client, 'verifyEmail', { input: { token: tokenOf(verification.link) } });

  await refused(client, 'acceptInvitation', {
    input: { token: canaries.fresh('AcceptInvitationInput.token (forged)') },
  });
  await refused(browser(), 'completeOAuthSignUp', {
    input: {
      ticket: canaries.fresh('CompleteOAuthSignUpInput.ticket (forged)'),
      ageConfirmed: true,
      acceptedPolicyVersion: 'any',
    },
  });
  const ticket = canaries.fresh('Query.oauthSignUp(ticket) (forged)');
  record(
    'query oauthSignUp (forged ticket)',
    (await browser().graphql(
      'query T($ticket: String!) { oauthSignUp(ticket: $ticket) { email name provider } }',
      {
        ticket,
      },
    )) as Result,
  );
  return { ...person, client, email };
}

/** Cloud auths of all four providers (and ones refused), a registry auth, and a CLOUD compute environment. */
async function feedCredentialSecrets(owner: Person): Promise<{ registryAuthId: string }> {
  // Room for every credential and schedule below (FREE allows few).
  await sql(server, "update organization set plan = 'TEAM' where id = ?", [owner.organizationId]);
  const { projectId } = owner;
  const aws = {
    accessKeyId: canaries.add('AwsCredentialsInput.accessKeyId', `AKIA${randomOf(UPPER_DIGITS, 16)}`),
    secretAccessKey: canaries.add(
      'AwsCredentialsInput.secretAccessKey',
      randomOf(`${UPPER_DIGITS}abcdefghijklmnopqrstuvwxyz/+`, 40),
    ),
  };
  const digitalocean = canaries.add('DigitalOceanCredentialsInput.token', `dop_v1_${randomOf(HEX, 64)}`);
  const linode = canaries.add('LinodeCredentialsInput.token', randomOf(HEX, 64));
  const vultr = canaries.add('VultrCredentialsInput.apiKey', randomOf(UPPER_DIGITS, 36));
  fake.accept('aws', aws.secretAccessKey, aws.accessKeyId);
  fake.accept('digitalocean', digitalocean);
  fake.accept('linode', linode);
  fake.accept('vultr', vultr);
  const created = await succeeds<{ createCloudAuth: { cloudAuth: { id: string } } }>(
    owner.client,
    'createCloudAuth',
    {
      input: {
        projectId,
        name: 'aws-prod',
        aws: { ...aws, roleArn: 'arn:aws:iam::123456789012:role/daestro' },
      },
    },
  );
  await succeeds(owner.client, 'createCloudAuth', {
    input: { projectId, name: 'do-prod', digitalocean: { token: digitalocean } },
  });
  await succeeds(owner.client, 'createCloudAuth', {
    input: { projectId, name: 'linode-prod', linode: { token: linode } },
  });
  await succeeds(owner.client, 'createCloudAuth', {
    input: { projectId, name: 'vultr-prod', vultr: { apiKey: vultr } },
  });
  // The provider refuses this one; the next breaks Vultr's format.
  await refused(owner.client, 'createCloudAuth', {
    input: {
      projectId,
      name: 'linode-refused',
      linode: { token: canaries.add('LinodeCredentialsInput.token (refused)', randomOf(HEX, 64)) },
    },
  });
  await refused(owner.client, 'createCloudAuth', {
    input: {
      projectId,
      name: 'vultr-malformed',
      vultr: {
        apiKey: canaries.add(
          'VultrCredentialsInput.apiKey (malformed)',
          randomOf(UPPER_DIGITS, 36).toLowerCase(),
        ),
      },
    },
  });
  await succeeds(owner.client, 'createComputeEnvironment', {
    input: {
      projectId,
      name: 'aws-batch',
      kind: 'CLOUD',
      cloudAuthId: created.createCloudAuth.cloudAuth.id,
      region: 'us-east-1',
      instanceType: 't3.micro',
      maxSpawns: 1,
    },
  });

  const registry = { registryUrl: 'registry.example.test:5000', username: 'ci-bot' };
  await refused(owner.client, 'createRegistryAuth', {
    input: {
      projectId,
      name: 'not a name',
      ...registry,
      password: canaries.fresh('CreateRegistryAuthInput.password (refused)'),
    },
  });
  const registryAuth = await succeeds<{ createRegistryAuth: { registryAuth: { id: string } } }>(
    owner.client,
    'createRegistryAuth',
    {
      input: {
        projectId,
        name: 'private-registry',
        ...registry,
        password: canaries.fresh('CreateRegistryAuthInput.password'),
      },
    },
  );
  return { registryAuthId: registryAuth.createRegistryAuth.registryAuth.id };
}

/** Sensitive variables of definitions (create and update), jobs and cron schedules; one job really runs. */
async function feedWorkloadSecrets(owner: Person, registryAuthId: string): Promise<{ runId: string }> {
  const { projectId } = owner;
  const secretVariable = (name: string, origin: string) => ({
    name,
    value: canaries.fresh(`EnvVarInput.value (${origin})`),
    sensitive: true,
  });
  await refused(owner.client, 'createJobDefinition', {
    input: {
      projectId,
      name: 'not a name',
      type: 'BASH',
      script: 'true',
      env: [secretVariable('DEF_SECRET', 'refused definition')],
    },
  });
  const first = await succeeds<{ createJobDefinition: { jobDefinition: { id: string } } }>(
    owner.client,
    'createJobDefinition',
    {
      input: {
        projectId,
        name: 'prints-secrets',
        type: 'BASH',
        script: BASH_PRINTING_ITS_SECRETS,
        env: [
          secretVariable('DEF_SECRET', 'createJobDefinition'),
          { name: 'GREETING', value: 'hello from the sweep' },
        ],
      },
    },
  );
  const updated = await succeeds<{ updateJobDefinition: { jobDefinition: { id: string } } }>(
    owner.client,
    'updateJobDefinition',
    {
      input: {
        definition: first.createJobDefinition.jobDefinition.id,
        env: [
          // No value: it keeps the one it has.
          { name: 'DEF_SECRET', sensitive: true },
          secretVariable('ADDED_SECRET', 'updateJobDefinition'),
          { name: 'GREETING', value: 'hello from the sweep' },
        ],
      },
    },
  );
  const definition = updated.updateJobDefinition.jobDefinition.id;
  await succeeds(owner.client, 'createJobDefinition', {
    input: {
      projectId,
      name: 'private-image',
      type: 'DOCKER',
      image: 'registry.example.test:5000/batch:1',
      registryAuthId,
      env: [secretVariable('IMAGE_SECRET', 'DOCKER definition')],
    },
  });

  // The embedded agent serves the `default` queue it made when the first person signed up.
  let defaultQueue: string | undefined;
  await waitFor(
    async () => {
      const queues = await owner.client.graphql<{ jobQueues: { id: string; name: string }[] }>(
        'query Q($projectId: ID!) { jobQueues(projectId: $projectId) { id name } }',
        { projectId },
      );
      defaultQueue = queues.data?.jobQueues.find((queue) => queue.name === 'default')?.id;
      return !!defaultQueue;
    },
    { what: 'the embedded agent’s queue' },
  );
  await refused(owner.client, 'submitJob', {
    input: { definition, queue: defaultQueue, env: [secretVariable('DAESTRO_RESERVED', 'refused job')] },
  });
  const ran = await succeeds<{ submitJob: { job: { id: string } } }>(owner.client, 'submitJob', {
    input: {
      definition,
      queue: defaultQueue,
      env: [secretVariable('JOB_SECRET', 'submitJob'), { name: 'JOB_NOTE', value: 'not a secret' }],
    },
  });
  const finished = await waitForEnd(owner.client, ran.submitJob.job.id);
  expect(finished.state, JSON.stringify(finished)).toBe('COMPLETED');

  // A job that waits on a disabled queue, is cancelled and resubmitted (its overrides go along).
  const disabled = await createQueue(owner.client, projectId);
  const waiting = await succeeds<{ submitJob: { job: { id: string } } }>(owner.client, 'submitJob', {
    input: { definition, queue: disabled.id, env: [secretVariable('JOB_SECRET', 'submitJob, pending')] },
  });
  await succeeds(owner.client, 'cancelJob', { input: { job: waiting.submitJob.job.id } });
  await succeeds(owner.client, 'resubmitJob', { input: { job: waiting.submitJob.job.id } });

  const schedule = await succeeds<{ createCronSchedule: { cronSchedule: { id: string } } }>(
    owner.client,
    'createCronSchedule',
    {
      input: {
        name: 'nightly',
        definition,
        queue: disabled.id,
        expression: '0 3 * * *',
        env: [secretVariable('CRON_SECRET', 'createCronSchedule'), { name: 'CRON_MODE', value: 'nightly' }],
      },
    },
  );
  await succeeds(owner.client, 'updateCronSchedule', {
    input: {
      schedule: schedule.createCronSchedule.cronSchedule.id,
      env: [{ name: 'CRON_SECRET', sensitive: true }, secretVariable('CRON_ROTATED', 'updateCronSchedule')],
    },
  });
  return { runId: finished.runs[0]!.id };
}

/** Tokens the server hands out once (API token, registration and agent tokens), and forged ones. */
async function feedTokens(owner: Person, runId: string): Promise<CookieClient> {
  const apiToken = await issue(
    owner.client,
    'createApiToken',
    { input: { name: 'sweep', organizationId: owner.organizationId, scopes: ['READ', 'WRITE', 'ADMIN'] } },
    (data) => data.createApiToken!.secret,
  );
  const environment = await createSelfHostedEnvironment(owner.client, owner.projectId);
  const firstToken = canaries.add('createComputeEnvironment (issued)', environment.registrationToken);
  const registrationToken = await issue(
    owner.client,
    'rotateRegistrationToken',
    { input: { computeEnvironment: environment.id } },
    (data) => data.rotateRegistrationToken!.registrationToken,
  );
  const agent = await registeredAgent(server, registrationToken, { hostname: 'sweep-machine' });
  canaries.add('registerAgent (issued)', agent.agentToken);
  for (const forged of [
    canaries.add(
      'RegisterAgentInput.registrationToken (forged)',
      `dreg_${randomBytes(32).toString('base64url')}`,
    ),
    firstToken,
  ]) {
    await refused(browser(), 'registerAgent', { input: { registrationToken: forged, hostname: 'intruder' } });
  }
  // Lease tokens for another machine's finished run.
  const lease = (inputType: string) => canaries.fresh(`${inputType}.leaseToken (forged)`);
  for (const [name, input] of [
    ['markRunStarted', { runId, leaseToken: lease('RunLeaseInput') }],
    ['appendRunLogs', { runId, leaseToken: lease('AppendRunLogsInput'), lines: [] }],
    ['appendRunMetrics', { runId, leaseToken: lease('AppendRunMetricsInput'), samples: [] }],
    ['finishRun', { runId, leaseToken: lease('FinishRunInput'), outcome: 'COMPLETED' }],
  ] as const) {
    await refused(agent.http, name, { input });
  }
  const embedded = JSON.parse(await readFile(path.join(dataDir, 'agent', 'agent.json'), 'utf8')) as {
    agentToken: string;
  };
  canaries.add('embedded agent token (issued)', embedded.agentToken);

  for (const [origin, headers] of [
    [
      'Authorization: Bearer (forged API token)',
      (secret: string) => ({ authorization: `Bearer dae_${secret}` }),
    ],
    [
      'Authorization: Bearer (forged agent token)',
      (secret: string) => ({ authorization: `Bearer dagt_${secret}` }),
    ],
    ['session cookie (forged)', (secret: string) => ({ cookie: `daestro_session=${secret}` })],
  ] as const) {
    const forged = headers(canaries.fresh(origin));
    record(origin, (await browser(forged).graphql('{ organizations { id } }')) as Result);
  }
  return browser({ authorization: `Bearer ${apiToken}` });
}

/** Every input field or argument named like a secret, as `Type.field` or `Type.field(argument)`. */
function secretInputs(of: GraphQLSchema): string[] {
  return Object.values(of.getTypeMap())
    .filter((type) => !type.name.startsWith('__'))
    .flatMap((type) => {
      if (isInputObjectType(type)) {
        return Object.keys(type.getFields())
          .filter((field) => SECRET_INPUT.test(field))
          .map((field) => `${type.name}.${field}`);
      }
      if (!isObjectType(type)) return [];
      return Object.values(type.getFields()).flatMap((field: GraphQLField<unknown, unknown>) =>
        field.args
          .filter((argument) => SECRET_INPUT.test(argument.name))
          .map((argument) => `${type.name}.${field.name}(${argument.name})`),
      );
    });
}

/** Every row of every table, as text: nothing typed in may be stored in clear. */
async function databaseRows(): Promise<Evidence[]> {
  const tables = await sql<{ schema: string; name: string }>(
    server,
    `select table_schema as schema, table_name as name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
  );
  const rows: Evidence[] = [];
  for (const { schema: tableSchema, name } of tables) {
    const table = `"${tableSchema}"."${name}"`;
    for (const row of await sql<{ text: string }>(server, `select t::text as text from ${table} t`)) {
      rows.push({ source: `table ${table}`, text: row.text });
    }
  }
  return rows;
}

describe('leak sweep', () => {
  it('finds a canary planted in a response in any encoding, and walks a field added to the schema', () => {
    const set = new CanarySet();
    const secret = set.fresh('Test.secret');
    const plants = {
      'as is': secret,
      base64: Buffer.from(secret).toString('base64'),
      'base64 after one byte': Buffer.from(`x${secret}`).toString('base64'),
      'URL-safe base64 after two bytes': Buffer.from(`xy${secret}`).toString('base64url'),
      'URL-encoded': encodeURIComponent(secret),
    };
    for (const [how, plant] of Object.entries(plants)) {
      const response = JSON.stringify({ data: { thing: { note: `before ${plant} after` } } });
      expect(set.findLeaks([{ source: how, text: response }]), how).not.toEqual([]);
    }
    const masked = JSON.stringify({ data: { thing: { maskedSecret: `••••${secret.slice(-4)}` } } });
    expect(set.findLeaks([{ source: 'masked', text: masked }])).toEqual([]);

    const tomorrow = buildSchema(`
      type Query { things(projectId: ID!): [Thing!]! }
      type Thing { id: ID! owner: Owner }
      type Owner { id: ID! addedTomorrow: String withArgument(count: Int!): String }`);
    const skipped = new Set<string>();
    const things = tomorrow.getQueryType()!.getFields().things!;
    const selection = selectAll(tomorrow, tomorrow.getType('Thing')!, 2, skipped);
    expect(operationText('query', things, { projectId: 'p' }, selection)).toBe(
      'query Walk($projectId: ID!) { things(projectId: $projectId) { __typename id owner { __typename id addedTomorrow } } }',
    );
    expect([...skipped]).toEqual(['Owner.withArgument']);
  });

  it('splits a selection the server would refuse into operations within its limits, losing no field', () => {
    const leaves = Array.from({ length: 1000 }, (_, index) => `f${index}: String`).join(' ');
    const wide = buildSchema(`type Query { wide: Wide } type Wide { id: ID! ${leaves} next: Wide }`);
    const field = wide.getQueryType()!.getFields().wide!;
    const selection = selectAll(wide, wide.getType('Wide')!, 4, new Set())!;
    const write = (part: Selection[]) => operationText('query', field, {}, part);
    expect(withinLimits(wide, write(selection))).toBe(false);
    const parts = splitWithinLimits(wide, selection, write);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(withinLimits(wide, write(part))).toBe(true);
    const paths = (of: Selection[], prefix = ''): string[] =>
      of.flatMap(({ name, children }) =>
        children ? paths(children, `${prefix}${name}.`) : [`${prefix}${name}`],
      );
    expect(new Set(parts.flatMap((part) => paths(part)))).toEqual(new Set(paths(selection)));
  });

  it('no canary comes back in any response, event, audit event, table or server log line', async () => {
    const started = Date.now();
    schema = await introspect(browser());
    walk = new QueryWalk(schema, record);

    const owner = await feedAccountSecrets();
    // Every state change of the owner's jobs, with all their fields, while the secrets go in.
    const socket = socketFor(server, { cookie: owner.client.cookieHeader() });
    const jobEvents = schema.getSubscriptionType()!.getFields().jobEvents!;
    const subscriptions = walk
      .operationsFor('subscription', jobEvents, { projectId: owner.projectId })
      .map((operation) => collect(socket, operation, { projectId: owner.projectId }));

    const { registryAuthId } = await feedCredentialSecrets(owner);
    const { runId } = await feedWorkloadSecrets(owner, registryAuthId);
    const apiToken = await feedTokens(owner, runId);
    await succeeds(owner.client, 'inviteMember', {
      input: {
        organizationId: owner.organizationId,
        email: `guest.${randomUUID()}@example.test`,
        role: 'VIEWER',
      },
    });
    await succeeds(owner.client, 'createOrganization', { input: { name: 'Second org' } });
    const fedAt = Date.now();

    await walk.walk('owner', owner.client);
    await walk.walk('API token', apiToken);
    const walkedAt = Date.now();

    for (const subscription of subscriptions) subscription.stop();
    await socket.dispose();
    const events = subscriptions.flatMap((subscription) => subscription.results);
    for (const event of events) record('subscription jobEvents', event as Result);
    expect(events.length, 'job events received').toBeGreaterThan(3);

    for (const value of new Set(
      browsers.flatMap((client) => client.setCookies.map((cookie) => cookie.value)),
    )) {
      if (value) canaries.add('session cookie (issued)', value);
    }
    // The audit table is read directly too (with every other table): its details are not in GraphQL.
    const [audit] = await sql<{ count: number }>(server, 'select count(*)::int as count from audit_event');
    expect(audit!.count, 'audit events recorded').toBeGreaterThan(10);
    evidence.push(...(await databaseRows()));
    evidence.push(
      ...logLines.map((line) => ({ source: `server log: ${line.msg}`, text: JSON.stringify(line) })),
    );

    const queryFields = Object.keys(schema.getQueryType()!.getFields());
    const answered = walk.answered();
    const neverAnswered = queryFields.filter((field) => !answered.has(field));
    const called = new Set(walk.calls.map((call) => call.field));
    const listed = (fields: string[]) =>
      fields
        .map((field) => (NOT_WALKED[field] ? `${field} (allowed: ${NOT_WALKED[field]})` : field))
        .join(', ') || 'none';
    const callsOf = (caller: string) => walk.calls.filter((call) => call.caller === caller);
    console.info(
      [
        `leak sweep: ${canaries.canaries.length} canaries, ${evidence.length} texts scanned ` +
          `(${logLines.length} log lines); feeding ${((fedAt - started) / 1000).toFixed(1)} s, ` +
          `walk ${((walkedAt - fedAt) / 1000).toFixed(1)} s`,
        ...['owner', 'API token'].map((caller) => {
          const refusals = callsOf(caller)
            .flatMap((call) => call.errors)
            .map((error) => String(error.extensions?.code));
          const counts = [...new Set(refusals)].map(
            (code) => `${code} ×${refusals.filter((c) => c === code).length}`,
          );
          return `${caller}: ${callsOf(caller).length} calls; errors: ${counts.join(', ') || 'none'}`;
        }),
        `${walk.operations} operations for ${walk.calls.length} calls (more when a selection is split to fit the limits)`,
        `root fields whose arguments could not be filled: ${listed(queryFields.filter((f) => !called.has(f)))}`,
        `root fields called but never answered: ${listed(neverAnswered.filter((f) => called.has(f)))}`,
        `object fields left out (they need arguments): ${[...walk.skippedFields].join(', ') || 'none'}`,
      ].join('\n'),
    );

    expect(canaries.findLeaks(evidence)).toEqual([]);
    expect(neverAnswered.sort(), 'Query fields never answered without errors').toEqual(
      Object.keys(NOT_WALKED).sort(),
    );
    const fed = new Set(canaries.canaries.map((canary) => canary.origin.split(' ')[0]));
    expect(
      secretInputs(schema).filter((coordinate) => !fed.has(coordinate)),
      'feed a canary through these inputs',
    ).toEqual([]);
    expect(
      TYPES_THAT_MUST_BE_WALKED.filter((type) => !walk.seen.has(type)),
      'types never read',
    ).toEqual([]);
    const logText = walk.valuesOf('JobRunLogLine', 'text');
    expect(
      logText.some((line) => line.includes('***')),
      'the run printed its secrets, masked',
    ).toBe(true);
    expect(
      logText.some((line) => line.includes('hello from the sweep')),
      'the run printed plain variables',
    ).toBe(true);
    const unexpected = walk.calls.filter((call) =>
      call.errors.some((error) => error.extensions?.code === 'INTERNAL_SERVER_ERROR'),
    );
    expect(
      unexpected.map((call) => `${call.caller} ${call.field}`),
      'internal errors',
    ).toEqual([]);
  }, 240_000);
});
