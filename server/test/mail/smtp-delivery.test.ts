import type { AddressObject } from 'mailparser';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailService, registerMailWorker } from '../../src/mail/mail.service.js';
import { SmtpTransport } from '../../src/mail/transports/smtp.transport.js';
import { startJobQueue, type JobQueue } from '../../src/queue/job-queue.js';
import { useTestDatabase } from '../../../test/support/database.js';
import { captureLogs } from '../../../test/support/log-capture.js';
import { startSmtpServer } from '../../../test/support/smtp-server.js';
import { waitFor } from '../support/wait-for.js';

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((group) => group.value.map((entry) => entry.address ?? ''));
}

describe('mail through SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let queue: JobQueue;
  let db: pg.Pool;
  const { log, lines } = captureLogs();

  beforeAll(async () => {
    const databaseUrl = await useTestDatabase();
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    smtp = await startSmtpServer();
    queue = await startJobQueue({ databaseUrl, log });
    await registerMailWorker(
      queue,
      new SmtpTransport({ url: smtp.url, from: 'Daestro <no-reply@daestro.test>' }),
      log,
    );
  });

  afterAll(async () => {
    await queue?.stop();
    await smtp?.close();
    await db?.end();
  });

  it('delivers a verification email queued by the mail service, and forgets the job', async () => {
    const mail = new MailService(queue);
    const link = 'https://daestro.example.com/verify-email?token=tok_123&u=1';

    const jobId = await mail.sendVerificationEmail({
      to: 'ada@example.com',
      name: 'Ada <b>Lovelace</b>',
      link,
    });

    await waitFor(() => smtp.received.length === 1, { what: 'the message to arrive' });
    const { envelopeTo, mail: arrived } = smtp.received[0]!;
    expect(envelopeTo).toEqual(['ada@example.com']);
    expect(arrived.from?.value).toEqual([{ name: 'Daestro', address: 'no-reply@daestro.test' }]);
    expect(addresses(arrived.to)).toEqual(['ada@example.com']);
    expect(arrived.subject).toBe('Verify your email address for Daestro');
    expect(arrived.text).toContain('Hello Ada <b>Lovelace</b>,');
    expect(arrived.text).toContain(link);
    expect(arrived.html).toContain('Hello Ada &lt;b&gt;Lovelace&lt;/b&gt;,');
    expect(arrived.html).toContain(`href="${link.replace('&', '&amp;')}"`);

    // Delivered jobs are deleted, not archived: their payload holds the single-use link.
    await waitFor(async () => {
      const { rowCount } = await db.query('select 1 from pgboss.job where id = $1', [jobId]);
      return rowCount === 0;
    });
    const archived = await db.query('select 1 from pgboss.archive where id = $1', [jobId]);
    expect(archived.rowCount).toBe(0);
  });

  it('retries a message the server turned away, with a backoff, until it is delivered', async () => {
    const mail = new MailService(queue);
    smtp.state.refuseNext = 1;
    const before = smtp.received.length;

    const jobId = await mail.sendInvitationEmail({
      to: 'grace@example.com',
      inviterName: 'Ada',
      organizationName: 'Analytical Engines',
      link: 'https://daestro.example.com/invitations/inv_1',
    });

    const retryRow = async () => {
      const { rows } = await db.query<{ state: string; delay: number }>(
        `select state, extract(epoch from start_after - now())::int as delay from pgboss.job where id = $1`,
        [jobId],
      );
      return rows[0];
    };
    await waitFor(async () => (await retryRow())?.state === 'retry', { what: 'the first attempt to fail' });
    // The first retry waits 30 to 60 seconds (retryDelay 30, exponential backoff with jitter).
    const { delay } = (await retryRow())!;
    expect(delay).toBeGreaterThanOrEqual(25);
    expect(delay).toBeLessThanOrEqual(60);
    const failure = lines.find(
      (line) => line.jobId === jobId && line.msg === 'job failed; it will be retried',
    );
    expect((failure?.err as { message: string }).message).toMatch(
      /^SMTP delivery failed: .*451 Mailbox busy/,
    );

    // Skip the wait: make the retry due now; the worker's next poll (2 s) takes it.
    await db.query(`update pgboss.job set start_after = now() where id = $1`, [jobId]);
    await waitFor(() => smtp.received.length === before + 1, { what: 'the retried message to arrive' });
    expect(smtp.received.at(-1)!.mail.subject).toBe('Ada invited you to Analytical Engines on Daestro');
    expect(lines.find((line) => line.jobId === jobId && line.msg === 'mail delivered')).toMatchObject({
      attempt: 2,
    });
  });

  it('reports an unreachable server as a delivery error, without the credentials of SMTP_URL', async () => {
    const closed = await startSmtpServer();
    await closed.close();
    const transport = new SmtpTransport({
      url: `${closed.url.replace('smtp://', 'smtp://mailer:s3cret-pass@')}`,
      from: 'daestro@daestro.test',
    });
    const attempt = transport.send({ to: 'x@example.com', subject: 's', text: 't', html: '<p>t</p>' });
    await expect(attempt).rejects.toThrow(/^SMTP delivery failed: .*ECONNREFUSED/);
    await expect(attempt).rejects.not.toThrow(/s3cret-pass/);
  });
});
