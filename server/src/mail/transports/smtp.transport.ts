import nodemailer, { type Transporter } from 'nodemailer';
import { MailDeliveryError, type MailTransport, type OutgoingMail } from '../mail.transport.js';

export interface SmtpTransportOptions {
  /** smtp://user:password@host:587 (STARTTLS when offered) or smtps://…:465 (TLS from the start). */
  url: string;
  from: string;
}

/** Sends through any SMTP server with nodemailer, one connection per message. */
export class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(options: SmtpTransportOptions) {
    this.transporter = nodemailer.createTransport(
      {
        url: options.url,
        // nodemailer waits up to 2 minutes to connect and 10 for a stalled socket;
        // a job retries sooner instead. Query parameters in SMTP_URL still win.
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      },
      { from: options.from },
    );
  }

  async send(message: OutgoingMail): Promise<void> {
    try {
      const info = await this.transporter.sendMail({
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      const rejected = info.rejected ?? [];
      if (rejected.length > 0) throw new Error(`the server rejected ${rejected.join(', ')}`);
    } catch (error) {
      // nodemailer's messages name the server's reply (e.g. "Invalid login: 535 …"), never the password.
      const reason = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: unknown }).code;
      throw new MailDeliveryError(
        `SMTP delivery failed: ${reason}`,
        typeof code === 'string' ? code : undefined,
      );
    }
  }
}
