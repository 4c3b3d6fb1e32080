import { beforeAll, describe, expect, it } from 'vitest';
import { OrganizationService } from '../../src/accounts/organization.service.js';
import { Throttle } from '../../src/accounts/throttle.js';
import { AgentService, LOCAL_ENVIRONMENT_NAME, LOCAL_QUEUE_NAME } from '../../src/agents/agent.service.js';
import { CredentialService } from '../../src/credentials/credential.service.js';
import { UserError } from '../../src/graphql/errors.js';
import { AuditService } from '../../src/privacy/audit.service.js';
import { ComputeEnvironmentKind } from '../../src/workloads/compute-environment.entity.js';
import { WorkloadCredentialUsers } from '../../src/workloads/credential-users.js';
import { JobQueue } from '../../src/workloads/job-queue.entity.js';
import { ProjectService } from '../../src/workloads/project.service.js';
import { openSchedulerTestbed, type Testbed } from '../scheduler/fixtures.js';

// The server side of the embedded agent (`pnpm start`): compute environment `local` and queue `default`.

let testbed: Testbed;
beforeAll(async () => {
  testbed = await openSchedulerTestbed();
});

/** The service as createServices builds it, on a fresh operation's EntityManager. */
function agents(): AgentService {
  const em = testbed.em;
  const organizations = new OrganizationService(em, new ProjectService(em));
  const secrets = testbed.secretsFor(em);
  const credentials = new CredentialService(em, {
    organizations,
    limits: testbed.limits,
    audit: new AuditService(em),
    secrets,
    users: new WorkloadCredentialUsers(em),
    // Never called here: registering agents does not check cloud credentials.
    cloudApis: {
      awsEc2Endpoint: '',
      digitalOceanApiUrl: '',
      linodeApiUrl: '',
      vultrApiUrl: '',
      checkTimeoutMs: 1,
    },
  });
  return new AgentService(em, {
    organizations,
    credentials,
    secrets,
    limits: testbed.limits,
    throttle: new Throttle(testbed.orm.em.getConnection().getKnex()),
    pubSub: testbed.pubSub,
    leaseSeconds: 30,
    claimGraceSeconds: 30,
  });
}

const client = { ip: '127.0.0.1', userAgent: 'vitest' };
const register = (registrationToken: string) =>
  agents().register({ registrationToken, hostname: 'this-server' }, client);

describe('ensureLocalComputeEnvironment', () => {
  it('creates `local` (a slot per CPU, at least 2) and an enabled `default` queue on it, once', async () => {
    const project = await testbed.project();
    const organizationId = project.organization.id;
    const first = await agents().ensureLocalComputeEnvironment(organizationId);
    expect(first.environment).toMatchObject({
      name: LOCAL_ENVIRONMENT_NAME,
      kind: ComputeEnvironmentKind.SELF_HOSTED,
    });
    expect(first.environment.slotsPerSpawn).toBeGreaterThanOrEqual(2);
    expect(first.registrationToken).toMatch(/^dreg_/);
    const queue = await testbed.em.findOneOrFail(JobQueue, { id: first.queue.id }, { populate: ['links'] });
    expect(queue).toMatchObject({ name: LOCAL_QUEUE_NAME, enabled: true });
    expect(queue.links.map((link) => link.computeEnvironment.id)).toEqual([first.environment.id]);

    const { spawn } = await register(first.registrationToken);
    expect(spawn.slots).toBe(first.environment.slotsPerSpawn);

    // Again (the next server start): the same environment and queue, a new token; the old one is dead.
    const second = await agents().ensureLocalComputeEnvironment(organizationId);
    expect(second.environment.id).toBe(first.environment.id);
    expect(second.queue.id).toBe(first.queue.id);
    expect(second.registrationToken).not.toBe(first.registrationToken);
    const refused = await register(first.registrationToken).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).code).toBe('UNAUTHENTICATED');
    await register(second.registrationToken);

    const environments = await testbed.sql<{ n: number }>(
      'select count(*)::int as n from compute_environment where project_id = ?',
      [project.id],
    );
    expect(environments).toEqual([{ n: 1 }]);
  });

  it('leaves a `default` queue the user changed as they left it', async () => {
    const project = await testbed.project();
    const { queue } = await agents().ensureLocalComputeEnvironment(project.organization.id);
    await testbed.sql('update job_queue set enabled = false where id = ?', [queue.id]);
    await agents().ensureLocalComputeEnvironment(project.organization.id);
    expect((await testbed.em.findOneOrFail(JobQueue, { id: queue.id })).enabled).toBe(false);
  });

  it('creates one environment when two servers start at once', async () => {
    const project = await testbed.project();
    const results = await Promise.all(
      [1, 2, 3].map(() => agents().ensureLocalComputeEnvironment(project.organization.id)),
    );
    expect(new Set(results.map((result) => result.environment.id)).size).toBe(1);
    expect(new Set(results.map((result) => result.queue.id)).size).toBe(1);
  });
});
