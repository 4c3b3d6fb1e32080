import { describe, expect, it } from 'vitest';
import {
  commandFromText,
  defaultsToText,
  envInputs,
  envRowsOf,
  missingParameterKeys,
  parameterInputs,
  parameterRows,
  parseDefaultsText,
  placeholderKeys,
} from '../src/workloads/parameters';
import {
  envRowProblems,
  jobNameProblem,
  resourceNameProblem,
  validateComputeEnvironment,
  validateDefinition,
  validateQueue,
} from '../src/workloads/validation';

describe('parameters', () => {
  it('finds each Param:: placeholder once, in order, inside longer arguments too', () => {
    expect(
      placeholderKeys(['--in=Param::input', 'Param::out.dir', 'Param::input', 'Param::', 'plain']),
    ).toEqual(['input', 'out.dir']);
  });

  it('prefills placeholders with defaults, then keys that only have defaults', () => {
    const rows = parameterRows(
      ['Param::a', 'Param::b'],
      [
        { key: 'b', value: '2' },
        { key: 'extra', value: 'x' },
      ],
    );
    expect(rows).toEqual([
      { key: 'a', value: '', defaultValue: undefined, placeholder: true },
      { key: 'b', value: '2', defaultValue: '2', placeholder: true },
      { key: 'extra', value: 'x', defaultValue: 'x', placeholder: false },
    ]);
    expect(missingParameterKeys(rows)).toEqual(['a']);
  });

  it('starts from a resubmitted job’s values and sends only values that differ from the default', () => {
    const rows = parameterRows(
      ['Param::a', 'Param::b'],
      [{ key: 'b', value: '2' }],
      [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    );
    expect(rows.map((row) => row.value)).toEqual(['1', '2']);
    expect(parameterInputs(rows)).toEqual([{ key: 'a', value: '1' }]);
    expect(parameterInputs([{ ...rows[1]!, value: '' }])).toEqual([]);
  });

  it('reads key=value defaults and says which line is wrong', () => {
    expect(parseDefaultsText('a=1\n\nb = two=2\r\n')).toEqual({
      parameters: [
        { key: 'a', value: '1' },
        { key: 'b', value: ' two=2' },
      ],
    });
    expect(parseDefaultsText('a=1\nnovalue').problem).toMatch(/^Line 2/);
    expect(parseDefaultsText('a=1\na=2').problem).toBe('Line 2: a is given twice.');
    expect(parseDefaultsText(defaultsToText([{ key: 'k', value: 'v=w' }])).parameters).toEqual([
      { key: 'k', value: 'v=w' },
    ]);
  });

  it('reads a command one argument per line', () => {
    expect(commandFromText('--name\n\nParam::name\r\n  \nlast')).toEqual(['--name', 'Param::name', 'last']);
  });
});

describe('environment variables', () => {
  it('starts stored sensitive variables empty, and sends them without a value to keep it', () => {
    const rows = envRowsOf(
      [
        { name: 'PLAIN', value: 'visible', sensitive: false },
        { name: 'TOKEN', value: null, sensitive: true },
      ],
      { keepSensitive: true },
    );
    expect(rows.map((row) => row.value)).toEqual(['visible', '']);
    expect(envInputs(rows)).toEqual([
      { name: 'PLAIN', sensitive: false, value: 'visible' },
      { name: 'TOKEN', sensitive: true },
    ]);
    expect(envRowProblems(rows)).toEqual({});
  });

  it('asks for a sensitive value again where it cannot be kept (a new job)', () => {
    const rows = envRowsOf([{ name: 'TOKEN', value: null, sensitive: true }], { keepSensitive: false });
    expect(envRowProblems(rows)).toEqual({ 0: 'Give TOKEN a value, or remove it.' });
  });

  it('names bad, reserved and repeated names, and ignores blank rows', () => {
    const row = (name: string, value = 'v') => ({ name, value, sensitive: false, keepsStoredValue: false });
    expect(
      envRowProblems([row('1BAD'), row('DAESTRO_JOB_ID'), row('OK'), row('OK'), row('', ''), row('', 'x')]),
    ).toEqual({
      0: '1BAD: use letters, digits and underscores, not starting with a digit.',
      1: 'DAESTRO_JOB_ID: DAESTRO_* names are set by Daestro in every run.',
      3: 'OK is given twice.',
      5: 'Name this variable.',
    });
    expect(envInputs([row('', ''), row(' A ', '1')])).toEqual([{ name: 'A', sensitive: false, value: '1' }]);
  });
});

describe('form checks', () => {
  it('follow the server’s name rules', () => {
    expect(resourceNameProblem('', 'x')).toBe('Enter a name, e.g. x.');
    expect(resourceNameProblem('has space', 'x')).toMatch(/letters, digits and hyphens/);
    expect(resourceNameProblem('a'.repeat(65), 'x')).toBeDefined();
    expect(resourceNameProblem('ok-name-1', 'x')).toBeUndefined();
    expect(jobNameProblem('')).toBeUndefined();
    expect(jobNameProblem('run_1.2-a')).toBeUndefined();
    expect(jobNameProblem('-starts-with-hyphen')).toBeDefined();
  });

  it('check a queue’s numbers against the server’s ranges', () => {
    const queue = { name: 'q', description: '', priority: 100, maxConcurrency: 0, maxIdleSeconds: 300 };
    expect(validateQueue(queue)).toEqual({});
    expect(validateQueue({ ...queue, priority: 0, maxConcurrency: 1.5, maxIdleSeconds: null })).toEqual({
      priority: 'Enter a priority from 1 to 1000.',
      maxConcurrency: 'Enter a limit (0 for none) as a whole number.',
      maxIdleSeconds: 'Enter seconds as a whole number.',
    });
  });

  it('ask a BASH definition for a script and a DOCKER one for an image', () => {
    const definition = {
      name: 'd',
      type: 'BASH' as const,
      image: '',
      script: '',
      cpu: 1,
      memoryMiB: 1024,
      timeoutSeconds: 0,
      attempts: 1,
    };
    expect(validateDefinition(definition)).toEqual({ script: 'Enter the script bash runs.' });
    expect(validateDefinition({ ...definition, type: 'DOCKER', cpu: 0.1 })).toEqual({
      image: 'Enter the image to run, e.g. alpine:3.20.',
      cpu: 'Enter vCPUs from 0.125 to 64.',
    });
  });

  it('ask for cloud settings only for cloud environments', () => {
    const environment = {
      name: 'pool',
      kind: 'SELF_HOSTED' as const,
      slotsPerSpawn: 2,
      cloudAuthId: '',
      region: '',
      instanceType: '',
      maxSpawns: null,
    };
    expect(validateComputeEnvironment(environment)).toEqual({});
    expect(Object.keys(validateComputeEnvironment({ ...environment, kind: 'CLOUD' }))).toEqual([
      'cloudAuthId',
      'region',
      'instanceType',
      'maxSpawns',
    ]);
  });
});
