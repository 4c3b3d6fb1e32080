import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrganizationService } from '../../src/accounts/organization.service.js';
import { User } from '../../src/accounts/user.entity.js';
import type { Viewer } from '../../src/accounts/viewer.js';
import { LimitsService } from '../../src/billing/limits.service.js';
import type { CloudApiConfig } from '../../src/config.js';
import { CloudAuth, CloudProvider } from '../../src/credentials/cloud-auth.entity.js';
import { CredentialService } from '../../src/credentials/credential.service.js';
import { RegistryAuth } from '../../src/credentials/registry-auth.entity.js';
import { findFreePort } from '../../src/db/embedded-postgres.js';
import { initOrm, type MikroORM } from '../../src/db/orm.js';
import { AuditEvent } from '../../src/privacy/audit-event.entity.js';
import { AuditService } from '../../src/privacy/audit.service.js';
import { Keyring } from '../../src/secrets/keyring.js';
import { SecretService } from '../../src/secrets/secret.service.js';
import { WorkloadCredentialUsers } from '../../src/workloads/credential-users.js';
import { ProjectService } from '../../src/workloads/project.service.js';
import { useTestDatabase } from '../../../test/support/database.js';

// What workloads call: find a project's credential, open it for a driver or an agent, and
// audit its use. The provider check goes to a closed local port, so these are UNREACHABLE.

const keyring = Keyring.fromKeys([{ id: 'test', key: randomBytes(32) }]);
const client = { ip: '127.0.0.1', userAgent: 'vitest' };

let orm: MikroORM;
let closedPort: CloudApiConfig;
beforeAll(async () => {
  orm = await initOrm(await useTestDatabase());
  // A free port nobody listens on: every check is refused at once.
  const nobody = `http://127.0.0.1:${await findFreePort()}`;
  closedPort = {
    awsEc2Endpoint: nobody,
    digitalOceanApiUrl: nobody,
    linodeApiUrl: nobody,
    vultrApiUrl: nobody,
    checkTimeoutMs: 2_000,
  };
});
afterAll(() => orm?.close(true));

/** The service as createServices builds it, on a fresh operation's EntityManager by default. */
function credentials(em = orm.em.fork()): CredentialService {
  return new CredentialService(em, {
    organizations: new OrganizationService(em, new ProjectService(em)),
    limits: new LimitsService(),
    audit: new AuditService(em),
    secrets: new SecretService(em, keyring),
    users: new WorkloadCredentialUsers(em),
    cloudApis: closedPort,
  });
}

let counter = 0;
async function person(): Promise<{ viewer: Viewer; organizationId: string; projectId: string }> {
  counter += 1;
  const em = orm.em.fork();
  const user = em.create(User, {
    name: `Person ${counter}`,
    email: `person${counter}.${Date.now()}@example.test`,
    ageConfirmedAt: new Date(),
    acceptedPolicyVersion: 'test',
    policyAcceptedAt: new Date(),
  });
  const organization = new OrganizationService(em, new ProjectService(em)).createPersonal(user);
  organization.plan = 'TEAM' as typeof organization.plan;
  await em.flush();
  const [project] = await new ProjectService(em).listForOrganization(organization.id);
  return {
    viewer: { userId: user.id, email: user.email, emailVerified: true, sessionId: 'session' },
    organizationId: organization.id,
    projectId: project!.id,
  };
}

describe('CredentialService for workloads', () => {
  it('opens what it sealed, from a fresh load, for the project it belongs to only', async () => {
    const owner = await person();
    const stranger = await person();
    const aws = {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      roleArn: 'arn:aws:iam::123456789012:role/daestro',
    };
    const created = await credentials().createCloudAuth(
      owner.viewer,
      { projectId: owner.projectId, name: 'aws', aws },
      client,
    );
    expect(created.verification).toBe('UNREACHABLE');
    expect(created.verificationMessage).toBe('Not verified: could not connect to AWS (ECONNREFUSED).');
    const registry = await credentials().createRegistryAuth(
      owner.viewer,
      {
        projectId: owner.projectId,
        name: 'ghcr',
        registryUrl: 'ghcr.io',
        username: 'octocat',
        password: 'ghp_json\nkey',
      },
      client,
    );

    const service = credentials();
    const cloudAuth = await service.requireCloudAuth(owner.projectId, created.id);
    expect(cloudAuth).toBeInstanceOf(CloudAuth);
    expect(await service.openCloudCredentials(cloudAuth)).toEqual({ provider: CloudProvider.AWS, ...aws });
    const registryAuth = await service.requireRegistryAuth(owner.projectId, registry.id);
    expect(registryAuth).toBeInstanceOf(RegistryAuth);
    expect(await service.openRegistryLogin(registryAuth)).toEqual({
      registryUrl: 'ghcr.io',
      username: 'octocat',
      password: 'ghp_json\nkey',
    });

    // Another project's id, a malformed one, or the other kind's: not found.
    await expect(service.requireCloudAuth(stranger.projectId, created.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(service.requireCloudAuth(owner.projectId, 'nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(service.requireRegistryAuth(owner.projectId, created.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `Registry auth ${created.id} was not found.`,
    });
  });

  it('audits a use with the credential and its user, written with the caller’s flush', async () => {
    const owner = await person();
    const created = await credentials().createCloudAuth(
      owner.viewer,
      { projectId: owner.projectId, name: 'do', digitalocean: { token: `dop_v1_${'ab'.repeat(32)}` } },
      client,
    );
    const em = orm.em.fork();
    const service = credentials(em);
    const cloudAuth = await service.requireCloudAuth(owner.projectId, created.id);
    service.recordUse(
      cloudAuth,
      { id: 'b3a1f3a0-0000-7000-8000-000000000001', name: 'gpu-pool' },
      {
        viewer: owner.viewer,
        client,
        organizationId: owner.organizationId,
      },
    );
    expect(
      await orm.em
        .fork()
        .count(AuditEvent, { action: 'cloud_auth.used' as never, organization: owner.organizationId }),
    ).toBe(0);
    await em.flush();

    const [event] = await orm.em
      .fork()
      .find(AuditEvent, { action: 'cloud_auth.used', organization: owner.organizationId });
    expect(event).toMatchObject({ actor: { id: owner.viewer.userId }, ip: '127.0.0.1' });
    expect(event!.details).toEqual({
      credentialId: created.id,
      name: 'do',
      projectId: owner.projectId,
      usedBy: { kind: 'COMPUTE_ENVIRONMENT', id: 'b3a1f3a0-0000-7000-8000-000000000001', name: 'gpu-pool' },
    });
  });
});
