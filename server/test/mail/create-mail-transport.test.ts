import { describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loadConfig } from '../../src/config.js';
import { createMailTransport } from '../../src/mail/create-mail-transport.js';
import { OutboxTransport } from '../../src/mail/transports/outbox.transport.js';
import { ResendTransport } from '../../src/mail/transports/resend.transport.js';
import { SmtpTransport } from '../../src/mail/transports/smtp.transport.js';
import { captureLogs } from '../../../test/support/log-capture.js';

// Constructing a transport opens no connection, so no database is needed here.
const em = {} as EntityManager;

describe('createMailTransport', () => {
  it.each([
    [{}, OutboxTransport],
    [{ SMTP_URL: 'smtp://mailer:pw@127.0.0.1:2525' }, SmtpTransport],
    [{ RESEND_API_KEY: 're_123', MAIL_FROM: 'mail@daestro.example.com' }, ResendTransport],
  ])('builds the transport the configuration names (%j)', (env, expected) => {
    const { log, lines } = captureLogs('info');
    const config = loadConfig(env).mail;

    expect(createMailTransport(config, { em, log })).toBeInstanceOf(expected);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'mail transport selected',
        transport: config.transport,
        from: config.from,
      }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/re_123|pw@/);
  });
});
