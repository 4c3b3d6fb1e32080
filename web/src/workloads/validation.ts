// Checks the workload forms run before sending, mirroring the server's rules so mistakes show at
// once next to their field. The server checks everything again; its errors name the field too
// (extensions.field), and the forms show them in the same place (accounts/errors.ts).
import type { FieldErrors } from '../accounts/validation';
import type { EnvRow } from './parameters';

/** Definitions, queues, compute environments and schedules (server: workloads/resource-name.ts). */
const RESOURCE_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** server: workloads/job.service.ts */
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** server: workloads/env-vars.ts */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function resourceNameProblem(raw: string, example: string): string | undefined {
  const name = raw.trim();
  if (!name) return `Enter a name, e.g. ${example}.`;
  if (!RESOURCE_NAME.test(name))
    return `Use 1 to 64 letters, digits and hyphens (no spaces), e.g. ${example}.`;
  return undefined;
}

/** Job names are optional: the server makes one up. */
export function jobNameProblem(raw: string): string | undefined {
  const name = raw.trim();
  if (!name || JOB_NAME.test(name)) return undefined;
  return 'Use up to 128 letters, digits, dots, hyphens and underscores, starting with a letter or digit.';
}

export function integerProblem(
  value: number | null | undefined,
  range: { min: number; max: number },
  what: string,
): string | undefined {
  if (value == null || !Number.isInteger(value)) return `Enter ${what} as a whole number.`;
  if (value < range.min || value > range.max) return `Enter ${what} from ${range.min} to ${range.max}.`;
  return undefined;
}

/** Messages by row index, for the variables the server would refuse. */
export function envRowProblems(rows: readonly EnvRow[]): Record<number, string> {
  const problems: Record<number, string> = {};
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const name = row.name.trim();
    if (!name && row.value === '') return; // a blank row is ignored
    if (!name) problems[index] = 'Name this variable.';
    else if (!ENV_NAME.test(name))
      problems[index] = `${name}: use letters, digits and underscores, not starting with a digit.`;
    else if (name.toUpperCase().startsWith('DAESTRO_'))
      problems[index] = `${name}: DAESTRO_* names are set by Daestro in every run.`;
    else if (seen.has(name)) problems[index] = `${name} is given twice.`;
    else if (row.value === '' && !row.keepsStoredValue)
      problems[index] = `Give ${name} a value, or remove it.`;
    seen.add(name);
  });
  return problems;
}

export function withoutEmpty<Field extends string>(
  errors: Record<Field, string | undefined>,
): FieldErrors<Field> {
  return Object.fromEntries(Object.entries(errors).filter(([, message]) => message)) as FieldErrors<Field>;
}

export const QUEUE_LIMITS = {
  priority: { min: 1, max: 1000 },
  maxConcurrency: { min: 0, max: 100_000 },
  maxIdleSeconds: { min: 0, max: 7 * 24 * 3600 },
} as const;

export interface QueueForm {
  name: string;
  description: string;
  priority: number | null;
  maxConcurrency: number | null;
  maxIdleSeconds: number | null;
}

export function validateQueue(form: QueueForm): FieldErrors<keyof QueueForm> {
  return withoutEmpty({
    name: resourceNameProblem(form.name, 'nightly-batch'),
    description: form.description.length > 1000 ? 'Use at most 1000 characters.' : undefined,
    priority: integerProblem(form.priority, QUEUE_LIMITS.priority, 'a priority'),
    maxConcurrency: integerProblem(form.maxConcurrency, QUEUE_LIMITS.maxConcurrency, 'a limit (0 for none)'),
    maxIdleSeconds: integerProblem(form.maxIdleSeconds, QUEUE_LIMITS.maxIdleSeconds, 'seconds'),
  });
}

export const DEFINITION_LIMITS = {
  cpu: { min: 0.125, max: 64 },
  memoryMiB: { min: 16, max: 262_144 },
  timeoutSeconds: { min: 0, max: 30 * 24 * 3600 },
  attempts: { min: 1, max: 10 },
} as const;

export interface DefinitionForm {
  name: string;
  type: 'BASH' | 'DOCKER';
  image: string;
  script: string;
  cpu: number | null;
  memoryMiB: number | null;
  timeoutSeconds: number | null;
  attempts: number | null;
}

export function validateDefinition(form: DefinitionForm): FieldErrors<keyof DefinitionForm> {
  const { cpu } = form;
  return withoutEmpty({
    name: resourceNameProblem(form.name, 'nightly-report'),
    type: undefined,
    image:
      form.type === 'DOCKER' && !form.image.trim() ? 'Enter the image to run, e.g. alpine:3.20.' : undefined,
    script: form.type === 'BASH' && !form.script.trim() ? 'Enter the script bash runs.' : undefined,
    cpu:
      cpu == null || cpu < DEFINITION_LIMITS.cpu.min || cpu > DEFINITION_LIMITS.cpu.max
        ? `Enter vCPUs from ${DEFINITION_LIMITS.cpu.min} to ${DEFINITION_LIMITS.cpu.max}.`
        : undefined,
    memoryMiB: integerProblem(form.memoryMiB, DEFINITION_LIMITS.memoryMiB, 'memory in MiB'),
    timeoutSeconds: integerProblem(
      form.timeoutSeconds,
      DEFINITION_LIMITS.timeoutSeconds,
      'a timeout in seconds (0 for none)',
    ),
    attempts: integerProblem(form.attempts, DEFINITION_LIMITS.attempts, 'attempts'),
  });
}

export interface ComputeEnvironmentForm {
  name: string;
  kind: 'SELF_HOSTED' | 'CLOUD';
  slotsPerSpawn: number | null;
  cloudAuthId: string;
  region: string;
  instanceType: string;
  maxSpawns: number | null;
}

export function validateComputeEnvironment(
  form: ComputeEnvironmentForm,
): FieldErrors<keyof ComputeEnvironmentForm> {
  const cloud = form.kind === 'CLOUD';
  return withoutEmpty({
    name: resourceNameProblem(form.name, 'build-machines'),
    kind: undefined,
    slotsPerSpawn: integerProblem(form.slotsPerSpawn, { min: 1, max: 256 }, 'slots'),
    cloudAuthId: cloud && !form.cloudAuthId ? 'Choose the cloud auth VMs are started with.' : undefined,
    region: cloud && !form.region.trim() ? 'Enter the provider’s region, e.g. fra1.' : undefined,
    instanceType:
      cloud && !form.instanceType.trim() ? 'Enter the machine size, e.g. s-2vcpu-4gb.' : undefined,
    maxSpawns: cloud ? integerProblem(form.maxSpawns, { min: 1, max: 1000 }, 'a number of VMs') : undefined,
  });
}
