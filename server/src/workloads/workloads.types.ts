import { MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { UserError } from '../graphql/errors.js';
import { checkUnique } from './validation.js';

const PARAMETER_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_PARAMETERS = 100;
const MAX_PARAMETER_VALUE = 4096;
const MAX_COMMAND_ARGUMENTS = 256;
const MAX_ARGUMENT_LENGTH = 8192;

@InputType({ description: 'A value for a `Param::<key>` placeholder of the command.' })
export class ParameterInput {
  @Field()
  @MaxLength(128)
  key!: string;

  @Field()
  value!: string;
}

@ObjectType({ description: 'A value for a `Param::<key>` placeholder of the command.' })
export class Parameter {
  @Field()
  key!: string;

  @Field()
  value!: string;
}

/** Parameter inputs as the map stored on definitions and jobs. */
export function checkParameters(inputs: readonly ParameterInput[], field: string): Record<string, string> {
  if (inputs.length > MAX_PARAMETERS) {
    throw UserError.badUserInput(`At most ${MAX_PARAMETERS} parameters.`, { field });
  }
  for (const { key, value } of inputs) {
    if (!PARAMETER_KEY.test(key)) {
      throw UserError.badUserInput(
        `"${key}" is not a valid parameter key: use letters, digits, dots, hyphens and underscores (as in Param::${'<key>'}).`,
        { field },
      );
    }
    if (value.length > MAX_PARAMETER_VALUE) {
      throw UserError.badUserInput(
        `The value of parameter ${key} is too long: at most ${MAX_PARAMETER_VALUE} characters.`,
        {
          field,
        },
      );
    }
  }
  checkUnique(
    inputs.map((input) => input.key),
    field,
    'The parameter',
  );
  return Object.fromEntries(inputs.map(({ key, value }) => [key, value]));
}

export function toParameters(values: Readonly<Record<string, string>>): Parameter[] {
  return Object.entries(values)
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([key, value]) => ({ key, value }));
}

/** A command: arguments that may hold `Param::<key>` placeholders. */
export function checkCommand(command: readonly string[], field: string): string[] {
  if (command.length > MAX_COMMAND_ARGUMENTS) {
    throw UserError.badUserInput(`A command has at most ${MAX_COMMAND_ARGUMENTS} arguments.`, { field });
  }
  const tooLong = command.findIndex((argument) => argument.length > MAX_ARGUMENT_LENGTH);
  if (tooLong >= 0) {
    throw UserError.badUserInput(
      `Argument ${tooLong + 1} of the command is longer than ${MAX_ARGUMENT_LENGTH} characters.`,
      {
        field,
      },
    );
  }
  return [...command];
}
