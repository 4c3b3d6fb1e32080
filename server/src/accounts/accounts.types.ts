import { ArrayMaxSize, ArrayMinSize, IsEmail, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PlanCode } from '../billing/plans.js';
import { ApiToken, ApiTokenScope } from './api-token.entity.js';
import { Invitation } from './invitation.entity.js';
import { MembershipRole } from './membership.entity.js';
import { Organization } from './organization.entity.js';
import { Session } from './session.entity.js';
import { User } from './user.entity.js';

registerEnumType(PlanCode, { name: 'PlanCode', description: 'The plans an organization can be on.' });

const PASSWORD_RULE = { min: 10, max: 256 } as const;

/** What every new account agrees to, however it signs up (password or OAuth). */
@InputType()
export abstract class ConsentInput {
  @Field({ description: 'The person confirms they are 16 or older.' })
  ageConfirmed!: boolean;

  @Field({ description: 'The privacy policy version shown to the person (privacyPolicy.version).' })
  acceptedPolicyVersion!: string;

  @Field({ nullable: true })
  marketingOptIn?: boolean;
}

@InputType()
export class SignUpInput extends ConsentInput {
  @Field()
  @Length(1, 100)
  name!: string;

  @Field()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @Field({ description: `At least ${PASSWORD_RULE.min} characters.` })
  @Length(PASSWORD_RULE.min, PASSWORD_RULE.max, {
    message: `password must be ${PASSWORD_RULE.min} to ${PASSWORD_RULE.max} characters long`,
  })
  password!: string;
}

@InputType()
export class LogInInput {
  @Field()
  @MaxLength(254)
  email!: string;

  @Field()
  @MaxLength(PASSWORD_RULE.max)
  password!: string;
}

@InputType()
export class VerifyEmailInput {
  @Field({ description: 'The token from the emailed link.' })
  @MaxLength(200)
  token!: string;
}

@InputType()
export class RequestPasswordResetInput {
  @Field()
  @MaxLength(254)
  email!: string;
}

@InputType()
export class ResetPasswordInput {
  @Field({ description: 'The token from the emailed link.' })
  @MaxLength(200)
  token!: string;

  @Field()
  @Length(PASSWORD_RULE.min, PASSWORD_RULE.max, {
    message: `newPassword must be ${PASSWORD_RULE.min} to ${PASSWORD_RULE.max} characters long`,
  })
  newPassword!: string;
}

@InputType()
export class RevokeSessionInput {
  @Field(() => ID)
  sessionId!: string;
}

@InputType()
export class CreateApiTokenInput {
  @Field()
  @Length(1, 100)
  name!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID, { nullable: true, description: 'Limit the token to one project of the organization.' })
  projectId?: string;

  @Field(() => [ApiTokenScope])
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  scopes!: ApiTokenScope[];

  @Field({ nullable: true, description: 'No expiry when absent.' })
  expiresAt?: Date;
}

@InputType()
export class RevokeApiTokenInput {
  @Field(() => ID)
  apiTokenId!: string;
}

@ObjectType()
export class SignedInPayload {
  @Field(() => User)
  user!: User;
}

@ObjectType()
export class LogOutPayload {
  @Field()
  signedOut!: boolean;
}

@ObjectType()
export class VerifyEmailPayload {
  @Field(() => User)
  user!: User;
}

@ObjectType({ description: 'The same answer whether or not the address has an account.' })
export class AcceptedPayload {
  @Field()
  accepted!: boolean;
}

@ObjectType()
export class RevokeSessionPayload {
  @Field(() => Session)
  session!: Session;
}

@ObjectType()
export class CreateApiTokenPayload {
  @Field(() => ApiToken)
  apiToken!: ApiToken;

  @Field({
    description: 'The token itself: shown this once, never again. Send it as `Authorization: Bearer …`.',
  })
  secret!: string;
}

@ObjectType()
export class RevokeApiTokenPayload {
  @Field(() => ApiToken)
  apiToken!: ApiToken;
}

@ObjectType({ description: 'The privacy policy in force.' })
export class PrivacyPolicy {
  @Field({ description: 'Pass this as acceptedPolicyVersion when signing up.' })
  version!: string;
}

@ObjectType({ description: 'What a plan allows.' })
export class PlanLimitsType {
  @Field(() => Int) concurrentRuns!: number;
  @Field(() => Int) computeSpawns!: number;
  @Field(() => Int) cloudAuths!: number;
  @Field(() => Int) registryAuths!: number;
  @Field(() => Int) cronSchedules!: number;
  @Field(() => Int) logStorageMiB!: number;
  @Field(() => Int) logRetentionDays!: number;
  @Field(() => Int) members!: number;
}

@ObjectType('Plan')
export class PlanType {
  @Field(() => PlanCode)
  code!: PlanCode;

  @Field(() => PlanLimitsType)
  limits!: PlanLimitsType;
}

@ObjectType({ description: 'A person in an organization and their role.' })
export class Member {
  @Field(() => User)
  user!: User;

  @Field(() => MembershipRole)
  role!: MembershipRole;

  @Field()
  joinedAt!: Date;
}

@InputType()
export class CreateOrganizationInput {
  @Field()
  @Length(1, 100)
  name!: string;
}

@InputType()
export class InviteMemberInput {
  @Field(() => ID)
  organizationId!: string;

  @Field()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @Field(() => MembershipRole)
  role!: MembershipRole;
}

@InputType()
export class InvitationIdInput {
  @Field(() => ID)
  invitationId!: string;
}

@InputType()
export class AcceptInvitationInput {
  @Field({ description: 'The token from the emailed link.' })
  @MaxLength(200)
  token!: string;
}

@InputType()
export class ChangeMemberRoleInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => MembershipRole)
  role!: MembershipRole;
}

@InputType()
export class RemoveMemberInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID, { description: 'Your own id to leave the organization.' })
  userId!: string;
}

@ObjectType()
export class OrganizationPayload {
  @Field(() => Organization)
  organization!: Organization;
}

@ObjectType()
export class InvitationPayload {
  @Field(() => Invitation)
  invitation!: Invitation;
}

@ObjectType()
export class MemberPayload {
  @Field(() => Member)
  member!: Member;
}

@ObjectType()
export class RemoveMemberPayload {
  @Field(() => ID)
  removedUserId!: string;
}

@InputType()
export class UpdateProfileInput {
  @Field({ nullable: true })
  @Length(1, 100)
  name?: string;

  @Field({ nullable: true })
  marketingOptIn?: boolean;
}

@InputType()
export class ChangePasswordInput {
  @Field()
  @MaxLength(PASSWORD_RULE.max)
  currentPassword!: string;

  @Field()
  @Length(PASSWORD_RULE.min, PASSWORD_RULE.max, {
    message: `newPassword must be ${PASSWORD_RULE.min} to ${PASSWORD_RULE.max} characters long`,
  })
  newPassword!: string;
}

@InputType()
export class ChangeEmailInput {
  @Field()
  @IsEmail({}, { message: 'newEmail must be an email address' })
  @MaxLength(254)
  newEmail!: string;

  @Field()
  @MaxLength(PASSWORD_RULE.max)
  currentPassword!: string;
}

@ObjectType()
export class UserPayload {
  @Field(() => User)
  user!: User;
}
