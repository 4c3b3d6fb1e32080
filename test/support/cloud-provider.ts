import { createHash, createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type CloudProviderSlug = 'aws' | 'digitalocean' | 'linode' | 'vultr';

/** How a provider misbehaves: never answers, answers 503, or drops the connection. */
export type Outage = 'hang' | 'down' | 'reset';

/** One request the fake received, for assertions (which provider was asked, how often, with what). */
export interface ProviderRequest {
  provider: CloudProviderSlug;
  method: string;
  path: string;
  authorization?: string;
}

export interface FakeCloudProvider {
  /** AWS_EC2_ENDPOINT, DIGITALOCEAN_API_URL, LINODE_API_URL and VULTR_API_URL for the server. */
  env: Record<string, string>;
  /** Valid credentials: `secret` is the token / API key, or AWS's secret access key for `accessKeyId`. */
  accept(provider: CloudProviderSlug, secret: string, accessKeyId?: string): void;
  /** Valid credentials without the permission the check needs (403). */
  acceptWithoutPermission(provider: CloudProviderSlug, secret: string, accessKeyId?: string): void;
  outage(provider: CloudProviderSlug, outage: Outage | undefined): void;
  readonly requests: ProviderRequest[];
  close(): Promise<void>;
}

interface Grant {
  secret: string;
  permitted: boolean;
}

/**
 * A local stand-in for the four providers' read-only calls that cloud auths are checked
 * with. AWS requests must carry a valid Signature V4, verified here independently of the
 * server's signing library (a wrong secret access key fails as at AWS: 401 AuthFailure);
 * the others want `Authorization: Bearer <token>`.
 */
export async function startFakeCloudProvider(): Promise<FakeCloudProvider> {
  const grants: Record<CloudProviderSlug, Map<string, Grant>> = {
    aws: new Map(),
    digitalocean: new Map(),
    linode: new Map(),
    vultr: new Map(),
  };
  const outages = new Map<CloudProviderSlug, Outage>();
  const requests: ProviderRequest[] = [];
  const hanging = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? '/', 'http://fake');
    const provider = url.pathname.split('/')[1] as CloudProviderSlug;
    if (!(provider in grants)) return void res.writeHead(404).end();
    requests.push({
      provider,
      method: req.method ?? '',
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    });
    const outage = outages.get(provider);
    if (outage === 'hang') return void hanging.add(res);
    if (outage === 'down') return void res.writeHead(503).end('Service Unavailable');
    if (outage === 'reset') return void req.socket.destroy();

    if (provider === 'aws') return aws(req, url, body, res);
    const expected = {
      digitalocean: '/digitalocean/v2/regions',
      linode: '/linode/v4/linode/instances',
      vultr: '/vultr/v2/instances',
    }[provider];
    if (req.method !== 'GET' || url.pathname !== expected) return json(res, 404, { error: 'no such route' });
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? grants[provider].get(token) : undefined;
    if (!grant) return json(res, 401, { id: 'unauthorized', message: 'Unable to authenticate you' });
    if (!grant.permitted) return json(res, 403, { id: 'forbidden', message: 'You do not have access' });
    json(res, 200, { regions: [{ id: 'ams', city: 'Amsterdam' }], meta: { total: 1 } });
  }

  function aws(req: http.IncomingMessage, url: URL, body: string, res: http.ServerResponse): void {
    if (req.method !== 'POST' || new URLSearchParams(body).get('Action') !== 'DescribeRegions') {
      return awsError(res, 400, 'InvalidAction');
    }
    const accessKeyId = /Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const grant = accessKeyId ? grants.aws.get(accessKeyId) : undefined;
    if (!grant || !validSignature(req, url, body, grant.secret)) return awsError(res, 401, 'AuthFailure');
    if (!grant.permitted) return awsError(res, 403, 'UnauthorizedOperation');
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><regionInfo><item>' +
          '<regionName>us-east-1</regionName></item></regionInfo></DescribeRegionsResponse>',
      );
  }

  function grant(permitted: boolean) {
    return (provider: CloudProviderSlug, secret: string, accessKeyId?: string) => {
      grants[provider].set(accessKeyId ?? secret, { secret, permitted });
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      AWS_EC2_ENDPOINT: `${base}/aws`,
      DIGITALOCEAN_API_URL: `${base}/digitalocean`,
      LINODE_API_URL: `${base}/linode`,
      VULTR_API_URL: `${base}/vultr`,
    },
    accept: grant(true),
    acceptWithoutPermission: grant(false),
    outage: (provider, outage) => {
      if (outage) outages.set(provider, outage);
      else outages.delete(provider);
    },
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Signature V4 as AWS checks it: the canonical request of the headers the client
 * says it signed, under the key derived from the secret, date, region and service.
 */
function validSignature(req: http.IncomingMessage, url: URL, body: string, secret: string): boolean {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? '',
    );
  const amzDate = req.headers['x-amz-date'];
  // EC2 wants requests signed for the ec2 service.
  if (!match || match[4] !== 'ec2' || typeof amzDate !== 'string' || !amzDate.startsWith(match[2]!))
    return false;
  const [, , date, region, service, signedHeaders, signature] = match as unknown as string[];
  const canonicalHeaders = signedHeaders!
    .split(';')
    .map((name) => `${name}:${String(req.headers[name] ?? '').trim()}\n`)
    .join('');
  const canonicalRequest = [
    req.method,
    url.pathname,
    url.search.slice(1),
    canonicalHeaders,
    signedHeaders,
    sha256(body),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [date!, region!, service!, 'aws4_request']) key = hmac(key, part);
  return hmac(key, stringToSign).toString('hex') === signature;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function awsError(res: http.ServerResponse, status: number, code: string): void {
  res
    .writeHead(status, { 'content-type': 'text/xml' })
    .end(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code>` +
        `<Message>fake: ${code}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
    );
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
