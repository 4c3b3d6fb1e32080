import type { EntityManager } from '@mikro-orm/postgresql';
import type { MailConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { MailTransport } from './mail.transport.js';
import { OutboxTransport } from './transports/outbox.transport.js';
import { ResendTransport } from './transports/resend.transport.js';
import { SmtpTransport } from './transports/smtp.transport.js';

/** The transport config.mail names; loadConfig has already checked that its settings are present. */
export function createMailTransport(
  config: MailConfig,
  deps: { em: EntityManager; log: Logger },
): MailTransport {
  deps.log.info({ transport: config.transport, from: config.from }, 'mail transport selected');
  switch (config.transport) {
    case 'resend':
      return new ResendTransport({
        apiKey: required(config.resendApiKey, 'RESEND_API_KEY'),
        from: config.from,
      });
    case 'smtp':
      return new SmtpTransport({ url: required(config.smtpUrl, 'SMTP_URL'), from: config.from });
    case 'outbox':
      return new OutboxTransport(deps.em, deps.log);
  }
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
