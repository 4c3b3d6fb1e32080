import 'reflect-metadata';
import { graphql, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrm, type MikroORM } from '../../src/db/orm.js';
import type { Viewer } from '../../src/accounts/viewer.js';
import { authChecker } from '../../src/graphql/auth.js';
import type { GraphQLContext } from '../../src/graphql/context.js';
import { MailResolver } from '../../src/mail/mail.resolver.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { OutboxService } from '../../src/mail/outbox.service.js';
import { OutboxTransport } from '../../src/mail/transports/outbox.transport.js';
import { useTestDatabase } from '../../../test/support/database.js';
import { captureLogs } from '../../../test/support/log-capture.js';

let orm: MikroORM;

beforeAll(async () => {
  orm = await initOrm(await useTestDatabase());
});

afterAll(async () => {
  await orm?.close(true);
});

const message = (to: string, subject: string) => ({
  to,
  subject,
  text: `Open https://daestro.example.com/verify-email?token=secret-${subject}\n`,
  html: `<p><a href="https://daestro.example.com/verify-email?token=secret-${subject}">Verify</a></p>`,
});

describe('OutboxTransport', () => {
  it('stores the message and logs who it is for, but not the body and its link', async () => {
    const { log, lines } = captureLogs('info');
    const transport = new OutboxTransport(orm.em, log);

    await transport.send(message('  Ada@Example.com ', 'stored'));

    const [stored] = await orm.em.fork().find(OutboxMessage, { subject: 'stored' });
    expect(stored).toMatchObject({
      to: 'ada@example.com',
      subject: 'stored',
      text: 'Open https://daestro.example.com/verify-email?token=secret-stored\n',
      html: '<p><a href="https://daestro.example.com/verify-email?token=secret-stored">Verify</a></p>',
    });
    expect(stored!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/); // UUIDv7
    expect(stored!.createdAt).toBeInstanceOf(Date);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'mail stored in the dev outbox',
      to: 'ada@example.com',
      subject: 'stored',
      outboxMessageId: stored!.id,
    });
    expect(JSON.stringify(lines)).not.toMatch(/secret-stored|verify-email|href/);
  });
});

describe('OutboxService and devOutbox', () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    const transport = new OutboxTransport(orm.em, captureLogs('info').log);
    // Sent one after another so their order is their creation order.
    for (const [to, subject] of [
      ['grace@example.com', 'g1'],
      ['lin@example.com', 'l1'],
      ['Grace@Example.com', 'g2'],
      ['lin@example.com', 'l2'],
      ['grace@example.com', 'g3'],
    ] as const) {
      await transport.send(message(to, subject));
    }
    schema = await buildSchema({ resolvers: [MailResolver], validate: true, authChecker, authMode: 'error' });
  });

  it('lists only mail to the given addresses, newest first, case-insensitively', async () => {
    const outbox = new OutboxService(orm.em.fork());
    const mine = await outbox.list({ to: ['GRACE@example.com'], first: 20 });
    expect(mine.map((m) => m.subject)).toEqual(['g3', 'g2', 'g1']);
    expect((await outbox.list({ to: ['grace@example.com'], first: 2 })).map((m) => m.subject)).toEqual([
      'g3',
      'g2',
    ]);
    expect(await outbox.list({ to: [], first: 20 })).toEqual([]);
    expect(await outbox.list({ to: ['nobody@example.com'] })).toEqual([]);
  });

  it.each([0, 101, 1.5])('refuses first = %s', async (first) => {
    const outbox = new OutboxService(orm.em.fork());
    await expect(outbox.list({ to: ['grace@example.com'], first })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'first' },
    });
  });

  const query = /* GraphQL */ `
    query Outbox($first: Int) {
      devOutbox(first: $first) {
        id
        to
        subject
        text
        html
        createdAt
      }
    }
  `;

  // The parts of the context devOutbox and the auth checker read.
  function run(viewer: Viewer | undefined, variables: Record<string, unknown> = {}) {
    const context = {
      viewer,
      services: { outbox: new OutboxService(orm.em.fork()) },
    } as unknown as GraphQLContext;
    return graphql({ schema, source: query, contextValue: context, variableValues: variables });
  }

  const signedIn = (email: string): Viewer => ({
    userId: `u-${email}`,
    email,
    emailVerified: false, // the verification mail itself is read here, before verifying
    sessionId: `s-${email}`,
  });

  it('shows the signed-in user their own mail only', async () => {
    const result = await run(signedIn('lin@example.com'));
    expect(result.errors).toBeUndefined();
    const messages = (result.data as { devOutbox: Record<string, string>[] }).devOutbox;
    expect(messages.map((m) => [m.to, m.subject])).toEqual([
      ['lin@example.com', 'l2'],
      ['lin@example.com', 'l1'],
    ]);
    expect(messages[0]).toMatchObject({
      text: expect.stringContaining('secret-l2'),
      html: expect.any(String),
    });
    expect(new Date(messages[0]!.createdAt!).getTime()).not.toBeNaN();
  });

  it('returns at most first messages', async () => {
    const result = await run(signedIn('grace@example.com'), { first: 1 });
    expect((result.data as { devOutbox: { subject: string }[] }).devOutbox.map((m) => m.subject)).toEqual([
      'g3',
    ]);
  });

  it('refuses a caller who is not signed in', async () => {
    const result = await run(undefined);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an API token: the outbox is for a person in a browser', async () => {
    const { sessionId: _sessionId, ...viaToken } = signedIn('lin@example.com');
    const result = await run({ ...viaToken, token: { id: 't-1', organizationId: 'o-1', scopes: [] } });
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
