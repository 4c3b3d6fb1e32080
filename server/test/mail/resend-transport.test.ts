import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailDeliveryError } from '../../src/mail/mail.transport.js';
import { ResendTransport } from '../../src/mail/transports/resend.transport.js';

const API_KEY = 're_test_SECRET_key_123';

interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Stands in for api.resend.com: records each request and answers with the next scripted reply. */
async function startFakeResendApi() {
  const requests: RecordedRequest[] = [];
  const replies: { status: number; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(raw || '{}') as Record<string, unknown>,
      });
      const reply = replies.shift() ?? { status: 200, body: { id: 'email_1' } };
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    replies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const MESSAGE = {
  to: 'ada@example.com',
  subject: 'Verify your email address for Daestro',
  text: 'Open https://daestro.example.com/verify-email?token=t\n',
  html: '<p><a href="https://daestro.example.com/verify-email?token=t">Verify</a></p>',
};

describe('ResendTransport', () => {
  let api: Awaited<ReturnType<typeof startFakeResendApi>>;

  beforeAll(async () => {
    api = await startFakeResendApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('posts the message to the Resend API with the key and an idempotency key', async () => {
    const transport = new ResendTransport({
      apiKey: API_KEY,
      from: 'Daestro <mail@daestro.example.com>',
      baseUrl: api.baseUrl,
    });

    await transport.send({ ...MESSAGE, idempotencyKey: 'mail.send/job-1' });

    const request = api.requests.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', path: '/emails' });
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.headers['idempotency-key']).toBe('mail.send/job-1');
    expect(request.body).toMatchObject({
      from: 'Daestro <mail@daestro.example.com>',
      to: 'ada@example.com',
      subject: MESSAGE.subject,
      text: MESSAGE.text,
      html: MESSAGE.html,
    });
  });

  it("throws the provider's error message, without the API key", async () => {
    const transport = new ResendTransport({
      apiKey: API_KEY,
      from: 'mail@daestro.example.com',
      baseUrl: api.baseUrl,
    });
    api.replies.push({
      status: 403,
      body: {
        statusCode: 403,
        name: 'validation_error',
        message: 'The daestro.example.com domain is not verified.',
      },
    });

    const error = await transport.send(MESSAGE).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(error).toMatchObject({
      message:
        'Resend refused the message (HTTP 403, validation_error): The daestro.example.com domain is not verified.',
      providerCode: 'validation_error',
    });
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain(API_KEY);
  });

  it('throws when the API cannot be reached', async () => {
    const gone = await startFakeResendApi();
    await gone.close();
    const transport = new ResendTransport({
      apiKey: API_KEY,
      from: 'mail@daestro.example.com',
      baseUrl: gone.baseUrl,
    });

    await expect(transport.send(MESSAGE)).rejects.toThrow(
      /^Resend could not be reached \(application_error\): Unable to fetch data/,
    );
  });

  it('refuses to start without a key instead of reading RESEND_API_KEY behind our back', () => {
    expect(() => new ResendTransport({ apiKey: '', from: 'mail@daestro.example.com' })).toThrow(
      'ResendTransport needs an API key',
    );
  });
});
