import { describe, expect, it } from 'vitest';
import {
  cloudCredentialsInput,
  missingCloudFields,
  providerChoice,
  registryLabel,
  usedByText,
} from '../src/credentials/credentials';

describe('the cloud auth form', () => {
  it('names the empty required fields of the chosen provider only', () => {
    expect(missingCloudFields(providerChoice('AWS'), { name: ' ', accessKeyId: 'AKIA', token: '' })).toEqual({
      name: 'Enter a name, e.g. aws-production.',
      secretAccessKey: 'Enter the secret access key.',
    });
    expect(missingCloudFields(providerChoice('VULTR'), { name: 'v', accessKeyId: '' })).toEqual({
      apiKey: 'Enter the API key.',
    });
  });

  it('sends the chosen provider’s fields under its input key, trimmed, without empty optional ones', () => {
    const values = { name: 'x', accessKeyId: ' AKIA1 ', secretAccessKey: 's', roleArn: '  ', token: 'stale' };
    expect(cloudCredentialsInput(providerChoice('AWS'), values)).toEqual({
      aws: { accessKeyId: 'AKIA1', secretAccessKey: 's' },
    });
    expect(cloudCredentialsInput(providerChoice('LINODE'), values)).toEqual({ linode: { token: 'stale' } });
  });
});

describe('what the lists say', () => {
  it('calls the empty registry Docker Hub', () => {
    expect(registryLabel('')).toBe('Docker Hub');
    expect(registryLabel('ghcr.io')).toBe('ghcr.io');
  });

  it('says what uses a credential', () => {
    expect(usedByText([])).toBe('');
    expect(usedByText([{ kind: 'COMPUTE_ENVIRONMENT', name: 'gpu' }])).toBe(
      'Used by compute environment gpu',
    );
    expect(
      usedByText([
        { kind: 'JOB_DEFINITION', name: 'train' },
        { kind: 'JOB_DEFINITION', name: 'eval' },
      ]),
    ).toBe('Used by job definitions train, eval');
  });
});
