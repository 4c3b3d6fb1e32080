/** One message, rendered and addressed, ready for a transport. */
export interface OutgoingMail {
  /** A single recipient address. */
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * Stable across retries of the same message, so a provider that supports it
   * (Resend) sends it once even when an earlier attempt's answer was lost.
   */
  idempotencyKey?: string;
}

/** Delivers mail: Resend, SMTP or the development outbox (config `MAIL_TRANSPORT`). */
export interface MailTransport {
  /** Resolves once the provider accepted the message; throws (and the send is retried) otherwise. */
  send(message: OutgoingMail): Promise<void>;
}

/** The provider refused or could not be reached; the message says why, never with credentials. */
export class MailDeliveryError extends Error {
  constructor(
    message: string,
    /** The provider's error code, when it gave one. */
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'MailDeliveryError';
  }
}
