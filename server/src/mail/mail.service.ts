import type { Logger } from '../logger.js';
import type { JobQueue, SendJobOptions } from '../queue/job-queue.js';
import type { MailTransport, OutgoingMail } from './mail.transport.js';
import {
  invitationMail,
  passwordResetMail,
  verificationMail,
  type InvitationMailInput,
  type PasswordResetMailInput,
  type RenderedMail,
  type VerificationMailInput,
} from './mail.templates.js';

/** The queue every outgoing message goes through. */
export const MAIL_SEND_JOB = 'mail.send';

/** The job's payload: the rendered message, so the worker needs nothing but a transport. */
export type MailSendJobData = Omit<OutgoingMail, 'idempotencyKey'>;

/**
 * A provider that is down for a while is retried 5 times over 15 to 30 minutes
 * (30 s, doubled each time, plus up to as much again at random), then the job fails.
 */
const MAIL_SEND_OPTIONS: SendJobOptions = {
  retryLimit: 5,
  retryDelaySeconds: 30,
  retryBackoff: true,
  // Longer than the SMTP transport's own timeouts: an attempt ends by itself first.
  expireInSeconds: 5 * 60,
};

/**
 * Renders and enqueues mail. Requests never wait on a provider: they return
 * once the message is stored in the job queue, and a worker delivers it.
 */
export class MailService {
  constructor(private readonly queue: JobQueue) {}

  sendVerificationEmail(input: VerificationMailInput & { to: string }): Promise<string> {
    return this.enqueue(input.to, verificationMail(input));
  }

  sendPasswordResetEmail(input: PasswordResetMailInput & { to: string }): Promise<string> {
    return this.enqueue(input.to, passwordResetMail(input));
  }

  sendInvitationEmail(input: InvitationMailInput & { to: string }): Promise<string> {
    return this.enqueue(input.to, invitationMail(input));
  }

  /** Resolves with the job id once the message is queued. */
  private enqueue(to: string, mail: RenderedMail): Promise<string> {
    const data: MailSendJobData = { to, ...mail };
    return this.queue.send(MAIL_SEND_JOB, data, MAIL_SEND_OPTIONS);
  }
}

/** Delivers queued mail through `transport` in this process until the queue stops. */
export function registerMailWorker(queue: JobQueue, transport: MailTransport, log: Logger): Promise<void> {
  return queue.work<MailSendJobData>(
    MAIL_SEND_JOB,
    async (job) => {
      await transport.send({ ...job.data, idempotencyKey: `${MAIL_SEND_JOB}/${job.id}` });
      log.info({ jobId: job.id, attempt: job.retryCount + 1 }, 'mail delivered');
    },
    // Bodies hold single-use links: delete each job once delivered rather than archive it.
    { batchSize: 5, deleteOnSuccess: true },
  );
}
