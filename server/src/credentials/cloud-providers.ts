import { AwsV4Signer } from 'aws4fetch';
import type { CloudApiConfig } from '../config.js';
import { CloudAuthVerification, CloudProvider } from './cloud-auth.entity.js';
import { PROVIDER_NAMES, type CloudCredentials } from './cloud-credentials.js';

/** What asking the provider found. */
export interface CloudCheck {
  verification: CloudAuthVerification;
  /** For people; never holds the credentials. */
  message: string;
  /** REJECTED: the input field to blame, when one is clearly at fault. */
  field?: string;
}

const EC2_API_VERSION = '2016-11-15';
const DEFAULT_AWS_REGION = 'us-east-1';

interface Refusals {
  field?: string;
  /** HTTP 401: the provider does not know the credentials. */
  unauthorized: string;
  /** HTTP 403: known, but not allowed the call. */
  forbidden: string;
}

const REFUSALS: Record<CloudProvider, Refusals> = {
  AWS: {
    unauthorized:
      'AWS refused this access key: check the access key ID and the secret access key, and that the key ' +
      'is active in IAM.',
    forbidden:
      'AWS accepted this access key but refused ec2:DescribeRegions: give its IAM user a policy that ' +
      'allows EC2, including ec2:DescribeRegions.',
  },
  DIGITALOCEAN: {
    field: 'digitalocean.token',
    unauthorized:
      'DigitalOcean refused this token: check that it was copied whole and has not expired or been deleted.',
    forbidden: 'DigitalOcean accepted this token but refused to list regions: give it read and write scope.',
  },
  LINODE: {
    field: 'linode.token',
    unauthorized:
      'Linode refused this token: check that it was copied whole, has not expired, and may read and ' +
      'write Linodes.',
    forbidden:
      'Linode accepted this token but refused to list Linodes: give it read/write access to Linodes.',
  },
  VULTR: {
    field: 'vultr.apiKey',
    unauthorized:
      "Vultr refused this API key: check that it was copied whole, and that Access Control (Account → API) allows this server's IP address.",
    forbidden: 'Vultr accepted this API key but refused to list instances: allow it to manage instances.',
  },
};

/**
 * Asks the provider, read-only, whether the credentials work: 2xx → VERIFIED,
 * 401/403 → REJECTED, anything else (network error, timeout, 5xx, 429…) → UNREACHABLE.
 * Redirects are refused rather than followed, so credentials go to the configured host only.
 */
export async function checkCloudCredentials(
  credentials: CloudCredentials,
  apis: CloudApiConfig,
): Promise<CloudCheck> {
  const name = PROVIDER_NAMES[credentials.provider];
  let status: number;
  let awsCode: string | undefined;
  try {
    const response = await fetch(await checkRequest(credentials, apis), {
      signal: AbortSignal.timeout(apis.checkTimeoutMs),
      redirect: 'error',
    });
    status = response.status;
    // EC2 names the reason in its XML error body; other bodies are not needed.
    if (credentials.provider === CloudProvider.AWS && !response.ok)
      awsCode = awsErrorCode(await response.text());
    else await response.body?.cancel();
  } catch (error) {
    return {
      verification: CloudAuthVerification.UNREACHABLE,
      message: unreachable(name, error, apis.checkTimeoutMs),
    };
  }

  if (status >= 200 && status < 300) {
    return { verification: CloudAuthVerification.VERIFIED, message: `${name} accepted these credentials.` };
  }
  if (status === 401 || status === 403) {
    const refusals = REFUSALS[credentials.provider];
    const reason = status === 401 ? refusals.unauthorized : refusals.forbidden;
    return {
      verification: CloudAuthVerification.REJECTED,
      message: awsCode ? `${reason} (${awsCode})` : reason,
      ...(refusals.field && { field: refusals.field }),
    };
  }
  return {
    verification: CloudAuthVerification.UNREACHABLE,
    message: `Not verified: ${name} answered HTTP ${status}${awsCode ? ` (${awsCode})` : ''}.`,
  };
}

/**
 * A request that succeeds only with valid credentials and changes nothing. AWS and
 * DigitalOcean list regions. Linode's and Vultr's region lists are public (no token
 * needed), so there the check lists instances: that takes a valid token with the
 * access cloud compute environments need anyway.
 */
async function checkRequest(credentials: CloudCredentials, endpoints: CloudApiConfig): Promise<Request> {
  switch (credentials.provider) {
    case CloudProvider.AWS: {
      const url = `${endpoints.awsEc2Endpoint}/`;
      const signed = await new AwsV4Signer({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: `Action=DescribeRegions&Version=${EC2_API_VERSION}`,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        service: 'ec2',
        region: awsRegionOf(url),
      }).sign();
      return new Request(signed.url, { method: signed.method, headers: signed.headers, body: signed.body });
    }
    case CloudProvider.DIGITALOCEAN:
      return bearer(`${endpoints.digitalOceanApiUrl}/v2/regions?per_page=1`, credentials.token);
    case CloudProvider.LINODE:
      return bearer(`${endpoints.linodeApiUrl}/v4/linode/instances?page_size=25`, credentials.token);
    case CloudProvider.VULTR:
      return bearer(`${endpoints.vultrApiUrl}/v2/instances?per_page=1`, credentials.apiKey);
  }
}

function bearer(url: string, token: string): Request {
  return new Request(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
}

/** ec2.<region>.amazonaws.com signs for <region>; any other host (a proxy, a test fake) for us-east-1. */
function awsRegionOf(url: string): string {
  return (
    /^ec2\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(new URL(url).hostname)?.[1] ?? DEFAULT_AWS_REGION
  );
}

/** `<Code>AuthFailure</Code>` from an EC2 error response; only a code-shaped word is taken. */
function awsErrorCode(body: string): string | undefined {
  return /<Code>([A-Za-z.]{1,64})<\/Code>/.exec(body)?.[1];
}

function unreachable(name: string, error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `Not verified: ${name} did not answer within ${timeoutMs / 1000} s.`;
  }
  // fetch fails with "fetch failed"; why (ECONNREFUSED, ENOTFOUND, a refused redirect…) is its cause.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const reason =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : 'network error';
  return `Not verified: could not connect to ${name} (${reason.slice(0, 100)}).`;
}
