import { Resend } from 'resend';
import { MailDeliveryError, type MailTransport, type OutgoingMail } from '../mail.transport.js';

export interface ResendTransportOptions {
  apiKey: string;
  /** `Name <address>` on a domain verified with Resend. */
  from: string;
  /** The Resend API's address; only tests point it elsewhere. */
  baseUrl?: string;
}

/** Sends through Resend's HTTP API with the official SDK. */
export class ResendTransport implements MailTransport {
  private readonly client: Resend;
  private readonly from: string;

  constructor(options: ResendTransportOptions) {
    // The SDK falls back to process.env.RESEND_API_KEY when given none; config is the one source.
    if (!options.apiKey) throw new Error('ResendTransport needs an API key');
    this.client = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : undefined);
    this.from = options.from;
  }

  async send(message: OutgoingMail): Promise<void> {
    // The SDK reports API and network failures as a returned error, not a throw.
    const { error } = await this.client.emails.send(
      { from: this.from, to: message.to, subject: message.subject, text: message.text, html: message.html },
      message.idempotencyKey ? { idempotencyKey: message.idempotencyKey } : undefined,
    );
    if (error) {
      // No status code: the request never got an answer (network, DNS, timeout).
      const what = error.statusCode
        ? `Resend refused the message (HTTP ${error.statusCode}, ${error.name})`
        : `Resend could not be reached (${error.name})`;
      throw new MailDeliveryError(`${what}: ${error.message}`, error.name);
    }
  }
}
