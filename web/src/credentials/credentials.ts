// What the credentials page says about cloud and registry auths. Formats are checked by the
// server, whose errors name the field at fault (see accounts/errors.ts); this only spares a
// round trip for empty fields.
import type { CloudAuthVerification, CloudProvider, CredentialUserKind } from '../gql/graphql';

/** One input of a provider's credentials: `key` is the server's field (e.g. aws.secretAccessKey → secretAccessKey). */
export interface ProviderField {
  key: 'accessKeyId' | 'secretAccessKey' | 'roleArn' | 'token' | 'apiKey';
  label: string;
  /** How the "Enter the …" message names it. */
  noun: string;
  hint: string;
  /** Shown as dots while typed: the values that are secret. */
  secret: boolean;
  optional?: boolean;
}

export interface ProviderChoice {
  value: CloudProvider;
  label: string;
  /** The key of createCloudAuth's input that carries this provider's credentials. */
  inputKey: 'aws' | 'digitalocean' | 'linode' | 'vultr';
  fields: ProviderField[];
}

export const PROVIDERS: ProviderChoice[] = [
  {
    value: 'AWS',
    label: 'AWS',
    inputKey: 'aws',
    fields: [
      {
        key: 'accessKeyId',
        label: 'Access key ID',
        noun: 'access key ID',
        hint: 'An IAM user’s access key, starting with AKIA.',
        secret: false,
      },
      {
        key: 'secretAccessKey',
        label: 'Secret access key',
        noun: 'secret access key',
        hint: 'Shown by AWS once, when the key is created.',
        secret: true,
      },
      {
        key: 'roleArn',
        label: 'Role ARN (optional)',
        noun: 'role ARN',
        hint: 'A role to assume with the key, e.g. arn:aws:iam::123456789012:role/daestro.',
        secret: false,
        optional: true,
      },
    ],
  },
  {
    value: 'DIGITALOCEAN',
    label: 'DigitalOcean',
    inputKey: 'digitalocean',
    fields: [
      {
        key: 'token',
        label: 'API token',
        noun: 'API token',
        hint: 'A personal access token (dop_v1_…) with read and write scope, from API → Tokens.',
        secret: true,
      },
    ],
  },
  {
    value: 'LINODE',
    label: 'Linode',
    inputKey: 'linode',
    fields: [
      {
        key: 'token',
        label: 'Personal access token',
        noun: 'personal access token',
        hint: 'From Cloud Manager → API Tokens, with read/write access to Linodes.',
        secret: true,
      },
    ],
  },
  {
    value: 'VULTR',
    label: 'Vultr',
    inputKey: 'vultr',
    fields: [
      {
        key: 'apiKey',
        label: 'API key',
        noun: 'API key',
        hint: 'From Account → API. If Access Control is on, allow this server’s IP address.',
        secret: true,
      },
    ],
  },
];

export function providerChoice(provider: CloudProvider): ProviderChoice {
  return PROVIDERS.find((choice) => choice.value === provider)!;
}

export type CloudFormField = 'name' | ProviderField['key'];

/** Messages for the empty required fields of the chosen provider (and the name). */
export function missingCloudFields(
  provider: ProviderChoice,
  values: Partial<Record<CloudFormField, string>>,
): Partial<Record<CloudFormField, string>> {
  const missing: Partial<Record<CloudFormField, string>> = {};
  if (!values.name?.trim()) missing.name = 'Enter a name, e.g. aws-production.';
  for (const field of provider.fields) {
    if (!field.optional && !values[field.key]?.trim()) missing[field.key] = `Enter the ${field.noun}.`;
  }
  return missing;
}

/** createCloudAuth's per-provider input from the form's values (optional fields left out when empty). */
export function cloudCredentialsInput(
  provider: ProviderChoice,
  values: Partial<Record<CloudFormField, string>>,
): Record<string, Record<string, string>> {
  const fields = Object.fromEntries(
    provider.fields.flatMap((field) => {
      const value = values[field.key]?.trim() ?? '';
      return field.optional && !value ? [] : [[field.key, value]];
    }),
  );
  return { [provider.inputKey]: fields };
}

export const VERIFICATION_LABELS: Record<CloudAuthVerification, string> = {
  VERIFIED: 'Verified',
  UNREACHABLE: 'Not verified',
  REJECTED: 'Rejected',
};

export const VERIFICATION_BADGES: Record<CloudAuthVerification, string> = {
  VERIFIED: 'badge--ok',
  UNREACHABLE: 'badge--warn',
  REJECTED: 'badge--danger',
};

/** '' is Docker Hub. */
export function registryLabel(registryUrl: string): string {
  return registryUrl === '' ? 'Docker Hub' : registryUrl;
}

const USER_KINDS: Record<CredentialUserKind, [one: string, many: string]> = {
  COMPUTE_ENVIRONMENT: ['compute environment', 'compute environments'],
  JOB_DEFINITION: ['job definition', 'job definitions'],
};

/** "Used by compute environment gpu", "Used by job definitions a, b", or '' when unused. */
export function usedByText(users: readonly { kind: CredentialUserKind; name: string }[]): string {
  if (users.length === 0) return '';
  const [one, many] = USER_KINDS[users[0]!.kind];
  return `Used by ${users.length === 1 ? one : many} ${users.map((user) => user.name).join(', ')}`;
}
