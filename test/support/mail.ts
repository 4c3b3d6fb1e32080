import type { TestServer } from './server.js';

interface StoredMail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Waits for a message to `to` in the development outbox (the default transport),
 * which the job queue's worker fills asynchronously. Returns the newest match.
 */
export async function waitForMail(
  server: TestServer,
  to: string,
  subject: RegExp,
  options: { after?: Date; timeoutMs?: number } = {},
): Promise<StoredMail & { link: string }> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const after = options.after ?? new Date(0);
  for (;;) {
    const rows = (await server.database.orm.em
      .getConnection()
      .execute(
        'select "to", subject, text from mail_outbox_message where "to" = ? and created_at > ? order by created_at desc',
        [to, after],
      )) as StoredMail[];
    const mail = rows.find((row) => subject.test(row.subject));
    if (mail) {
      const link = /https?:\/\/\S+token=[\w%-]+/.exec(mail.text)?.[0];
      if (!link) throw new Error(`no link in mail "${mail.subject}":\n${mail.text}`);
      return { ...mail, link };
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${subject}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function tokenOf(link: string): string {
  return decodeURIComponent(new URL(link).searchParams.get('token') ?? '');
}
