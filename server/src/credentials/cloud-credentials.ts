import { UserError } from '../graphql/errors.js';
import { CloudProvider } from './cloud-auth.entity.js';

/** The credentials of one provider, checked and trimmed. Everything but `roleArn` is secret. */
export type CloudCredentials =
  | { provider: CloudProvider.AWS; accessKeyId: string; secretAccessKey: string; roleArn?: string }
  | { provider: CloudProvider.DIGITALOCEAN; token: string }
  | { provider: CloudProvider.LINODE; token: string }
  | { provider: CloudProvider.VULTR; apiKey: string };

/** The per-provider part of createCloudAuth's input: exactly one is given. */
export interface CloudCredentialsInput {
  aws?: { accessKeyId: string; secretAccessKey: string; roleArn?: string | null } | null;
  digitalocean?: { token: string } | null;
  linode?: { token: string } | null;
  vultr?: { apiKey: string } | null;
}

export const PROVIDER_NAMES: Record<CloudProvider, string> = {
  AWS: 'AWS',
  DIGITALOCEAN: 'DigitalOcean',
  LINODE: 'Linode',
  VULTR: 'Vultr',
};

const INPUT_KEYS = ['aws', 'digitalocean', 'linode', 'vultr'] as const;

// Formats as the providers issue them today. Messages never repeat the value: it is a secret.
const AWS_ACCESS_KEY_ID = /^AKIA[A-Z0-9]{16}$/;
const AWS_TEMPORARY_KEY_ID = /^ASIA[A-Z0-9]{16}$/;
const AWS_SECRET_ACCESS_KEY = /^[A-Za-z0-9/+]{40}$/;
const AWS_ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
// dop_v1_: personal access token; doo_v1_: OAuth token; bare hex: tokens made before 2021.
const DIGITALOCEAN_TOKEN = /^(?:do[op]_v1_)?[0-9a-f]{64}$/;
const LINODE_TOKEN = /^[0-9a-f]{64}$/;
const VULTR_API_KEY = /^[A-Z0-9]{36}$/;

/**
 * Checks the one provider's fields given and returns them trimmed, or throws
 * BAD_USER_INPUT whose `field` names the offending input (e.g. `aws.secretAccessKey`).
 */
export function parseCloudCredentials(input: CloudCredentialsInput): CloudCredentials {
  const given = INPUT_KEYS.filter((key) => input[key] != null);
  if (given.length !== 1) {
    throw UserError.badUserInput(
      given.length === 0
        ? 'Choose a provider and enter its credentials (aws, digitalocean, linode or vultr).'
        : `Give the credentials of one provider only, not ${given.join(' and ')}.`,
      { field: 'provider' },
    );
  }
  if (input.aws) {
    const accessKeyId = required(input.aws.accessKeyId, 'aws.accessKeyId', 'Enter the access key ID.');
    if (AWS_TEMPORARY_KEY_ID.test(accessKeyId)) {
      throw UserError.badUserInput(
        'This is a temporary access key ID (ASIA…), which stops working when its session ends. ' +
          'Create an access key for an IAM user instead: its ID starts with AKIA.',
        { field: 'aws.accessKeyId' },
      );
    }
    requireFormat(
      AWS_ACCESS_KEY_ID,
      accessKeyId,
      'aws.accessKeyId',
      'An access key ID is 20 capital letters and digits starting with AKIA, like AKIAIOSFODNN7EXAMPLE.',
    );
    const secretAccessKey = required(
      input.aws.secretAccessKey,
      'aws.secretAccessKey',
      'Enter the secret access key.',
    );
    requireFormat(
      AWS_SECRET_ACCESS_KEY,
      secretAccessKey,
      'aws.secretAccessKey',
      'A secret access key is 40 letters, digits, slashes and plus signs. Copy it whole: AWS shows it ' +
        'only once, when the key is created.',
    );
    const roleArn = input.aws.roleArn?.trim() || undefined;
    if (roleArn !== undefined) {
      requireFormat(
        AWS_ROLE_ARN,
        roleArn,
        'aws.roleArn',
        "A role ARN looks like arn:aws:iam::123456789012:role/daestro; copy it from the role's page in " +
          'the IAM console, or leave it empty to use the key directly.',
      );
    }
    return { provider: CloudProvider.AWS, accessKeyId, secretAccessKey, ...(roleArn && { roleArn }) };
  }
  if (input.digitalocean) {
    const token = required(input.digitalocean.token, 'digitalocean.token', 'Enter the API token.');
    requireFormat(
      DIGITALOCEAN_TOKEN,
      token,
      'digitalocean.token',
      'A DigitalOcean token is dop_v1_ followed by 64 characters 0-9 and a-f. Create one in the control ' +
        'panel under API → Tokens with read and write scope.',
    );
    return { provider: CloudProvider.DIGITALOCEAN, token };
  }
  if (input.linode) {
    const token = required(input.linode.token, 'linode.token', 'Enter the personal access token.');
    requireFormat(
      LINODE_TOKEN,
      token,
      'linode.token',
      'A Linode personal access token is 64 characters 0-9 and a-f. Create one in Cloud Manager under ' +
        'API Tokens with read/write access to Linodes.',
    );
    return { provider: CloudProvider.LINODE, token };
  }
  const apiKey = required(input.vultr!.apiKey, 'vultr.apiKey', 'Enter the API key.');
  requireFormat(
    VULTR_API_KEY,
    apiKey,
    'vultr.apiKey',
    'A Vultr API key is 36 capital letters and digits. Find it in the customer portal under Account → API.',
  );
  return { provider: CloudProvider.VULTR, apiKey };
}

/**
 * The secret fields as the one text that is sealed: the token or key itself where a
 * provider has one secret (so its fingerprint matches the same value stored elsewhere,
 * e.g. in an environment variable), a JSON document for AWS's pair. `roleArn` stays out.
 */
export function serializeSecretFields(credentials: CloudCredentials): string {
  switch (credentials.provider) {
    case CloudProvider.AWS:
      return JSON.stringify({
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
      });
    case CloudProvider.DIGITALOCEAN:
    case CloudProvider.LINODE:
      return credentials.token;
    case CloudProvider.VULTR:
      return credentials.apiKey;
  }
}

/** The credentials back from an opened secret, for the drivers that start VMs. */
export function deserializeSecretFields(
  provider: CloudProvider,
  sealedText: string,
  roleArn?: string,
): CloudCredentials {
  switch (provider) {
    case CloudProvider.AWS: {
      const { accessKeyId, secretAccessKey } = JSON.parse(sealedText) as Record<string, string>;
      if (!accessKeyId || !secretAccessKey) throw new Error('the sealed AWS credentials lack a field');
      return { provider, accessKeyId, secretAccessKey, ...(roleArn && { roleArn }) };
    }
    case CloudProvider.DIGITALOCEAN:
    case CloudProvider.LINODE:
      return { provider, token: sealedText };
    case CloudProvider.VULTR:
      return { provider, apiKey: sealedText };
  }
}

/** The field people recognise credentials by; the masked view shows the end of it. */
export function primarySecret(credentials: CloudCredentials): string {
  switch (credentials.provider) {
    case CloudProvider.AWS:
      return credentials.secretAccessKey;
    case CloudProvider.DIGITALOCEAN:
    case CloudProvider.LINODE:
      return credentials.token;
    case CloudProvider.VULTR:
      return credentials.apiKey;
  }
}

function required(raw: string, field: string, message: string): string {
  const value = raw.trim();
  if (value === '') throw UserError.badUserInput(message, { field });
  return value;
}

function requireFormat(pattern: RegExp, value: string, field: string, message: string): void {
  if (!pattern.test(value)) throw UserError.badUserInput(message, { field });
}
