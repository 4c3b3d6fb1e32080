import { MaxLength } from 'class-validator';
import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../graphql/errors.js';
import type { SecretSlot } from '../secrets/sealed-secret.js';
import type { SecretService } from '../secrets/secret.service.js';
import type { StoredEnvVar } from './job-definition.entity.js';
import { checkUnique } from './validation.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Injected into every run (DESIGN.md §2); nobody else may set them. */
const RESERVED_PREFIX = 'DAESTRO_';
const MAX_ENV_VARS = 200;
const MAX_VALUE_LENGTH = 32 * 1024;

/** The rows whose env vars are sealed; part of each value's slot, so a value only opens where it was written. */
export type EnvOwner = 'job_definition' | 'job' | 'cron_schedule';

export function envSlot(owner: EnvOwner, ownerId: string, name: string): SecretSlot {
  return { owner, ownerId, field: `env:${name}` };
}

@InputType({ description: 'An environment variable. Every value is stored encrypted.' })
export class EnvVarInput {
  @Field({
    description: 'Letters, digits and underscores, not starting with a digit; DAESTRO_* is reserved.',
  })
  @MaxLength(256)
  name!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The value. On an update, leave it out to keep the value the variable has now (sensitive ones cannot be read back).',
  })
  value?: string | null;

  @Field({ defaultValue: false, description: 'Shown only masked, never returned in clear.' })
  sensitive: boolean = false;
}

export enum EnvVarSource {
  DEFINITION = 'DEFINITION',
  JOB = 'JOB',
}
registerEnumType(EnvVarSource, {
  name: 'EnvVarSource',
  description: "Where a job's variable comes from: its definition, or the job's own override.",
});

@ObjectType({ description: 'An environment variable. A sensitive value is never returned; see maskedValue.' })
export class EnvVar {
  @Field()
  name!: string;

  @Field()
  sensitive!: boolean;

  @Field(() => String, { nullable: true, description: 'The value in clear; always null when sensitive.' })
  value!: string | null;

  @Field({
    description: 'The redacted value, e.g. `••••abcd` (the last 4 characters of values of 16 or more).',
  })
  maskedValue!: string;

  @Field({
    description: 'Equal values have equal fingerprints, so a value can be recognised without showing it.',
  })
  fingerprint!: string;

  @Field(() => EnvVarSource)
  source!: EnvVarSource;
}

/** Env vars already stored for a row, with the owner they are sealed for. */
export interface SealedEnv {
  owner: EnvOwner;
  ownerId: string;
  vars: readonly StoredEnvVar[];
}

/**
 * Validates, seals and shows environment variables of definitions, jobs and
 * schedules; every value goes through the secrets service.
 */
export class EnvVars {
  constructor(private readonly secrets: SecretService) {}

  /**
   * Seals `inputs` for a row. An input without a value keeps the value of the
   * same name in `previous` (an update of a sensitive variable the caller cannot read).
   */
  async seal(
    owner: EnvOwner,
    ownerId: string,
    inputs: readonly EnvVarInput[],
    field: string,
    previous?: SealedEnv,
  ): Promise<StoredEnvVar[]> {
    checkEnvInputs(inputs, field);
    const kept = previous ? await this.open(previous) : new Map<string, string>();
    const stored: StoredEnvVar[] = [];
    for (const input of inputs) {
      const value = input.value ?? kept.get(input.name);
      if (value === undefined) {
        throw UserError.badUserInput(`Give a value for the environment variable ${input.name}.`, { field });
      }
      const sealed = await this.secrets.seal(envSlot(owner, ownerId, input.name), value);
      stored.push({ name: input.name, sensitive: input.sensitive, value: sealed });
    }
    return stored;
  }

  /** Seals another row's variables for a new owner (a resubmitted job, a job fired by a schedule). */
  async copy(from: SealedEnv, owner: EnvOwner, ownerId: string): Promise<StoredEnvVar[]> {
    const values = await this.open(from);
    return this.seal(
      owner,
      ownerId,
      from.vars.map((variable) => ({
        name: variable.name,
        value: values.get(variable.name)!,
        sensitive: variable.sensitive,
      })),
      'env',
    );
  }

  /** The redacted view; non-sensitive values are opened to be shown in clear. */
  async view(env: SealedEnv, source: EnvVarSource): Promise<EnvVar[]> {
    const shown = env.vars.filter((variable) => !variable.sensitive);
    const values = await this.secrets.openMany(
      shown.map((variable) => ({
        slot: envSlot(env.owner, env.ownerId, variable.name),
        sealed: variable.value,
      })),
    );
    const clear = new Map(shown.map((variable, index) => [variable.name, values[index]!]));
    return env.vars.map((variable) => ({
      name: variable.name,
      sensitive: variable.sensitive,
      value: variable.sensitive ? null : clear.get(variable.name)!,
      maskedValue: variable.value.masked,
      fingerprint: variable.value.fingerprint,
      source,
    }));
  }

  /** Crypto-shreds the values (the row that held them is going, or they were replaced). */
  async destroy(vars: readonly StoredEnvVar[]): Promise<void> {
    for (const variable of vars) await this.secrets.destroy(variable.value);
  }

  private async open(env: SealedEnv): Promise<Map<string, string>> {
    const values = await this.secrets.openMany(
      env.vars.map((variable) => ({
        slot: envSlot(env.owner, env.ownerId, variable.name),
        sealed: variable.value,
      })),
    );
    return new Map(env.vars.map((variable, index) => [variable.name, values[index]!]));
  }
}

/** A definition's variables with a job's overrides on top, by name. */
export async function mergedEnvView(
  envVars: EnvVars,
  definition: SealedEnv,
  overrides: SealedEnv,
): Promise<EnvVar[]> {
  const [base, own] = await Promise.all([
    envVars.view(definition, EnvVarSource.DEFINITION),
    envVars.view(overrides, EnvVarSource.JOB),
  ]);
  const overridden = new Set(own.map((variable) => variable.name));
  return [...base.filter((variable) => !overridden.has(variable.name)), ...own];
}

function checkEnvInputs(inputs: readonly EnvVarInput[], field: string): void {
  if (inputs.length > MAX_ENV_VARS) {
    throw UserError.badUserInput(`At most ${MAX_ENV_VARS} environment variables.`, { field });
  }
  for (const { name, value } of inputs) {
    if (!ENV_NAME.test(name)) {
      throw UserError.badUserInput(
        `"${name}" is not a valid environment variable name: use letters, digits and underscores, not starting with a digit.`,
        { field },
      );
    }
    if (name.toUpperCase().startsWith(RESERVED_PREFIX)) {
      throw UserError.badUserInput(
        `${name}: names starting with ${RESERVED_PREFIX} are reserved for the variables Daestro sets in every run.`,
        { field },
      );
    }
    if (value === '') {
      throw UserError.badUserInput(
        `The environment variable ${name} is empty: give it a value or leave it out.`,
        {
          field,
        },
      );
    }
    if (value && value.length > MAX_VALUE_LENGTH) {
      throw UserError.badUserInput(
        `The value of ${name} is too long: at most ${MAX_VALUE_LENGTH} characters.`,
        {
          field,
        },
      );
    }
  }
  checkUnique(
    inputs.map((input) => input.name),
    field,
    'The environment variable',
  );
}
