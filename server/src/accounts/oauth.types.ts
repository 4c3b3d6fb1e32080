import { Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ConsentInput } from './accounts.types.js';
import { AuthProvider, OAuthIdentity } from './oauth-identity.entity.js';
import { User } from './user.entity.js';

@InputType()
export class CompleteOAuthSignUpInput extends ConsentInput {
  @Field({ description: 'The ticket from /oauth/complete?ticket=…, where the provider sign-in led.' })
  @MaxLength(200)
  ticket!: string;

  @Field({ nullable: true, description: 'The name to use; the name the provider gave when absent.' })
  @Length(1, 100)
  name?: string;
}

@ObjectType()
export class CompleteOAuthSignUpPayload {
  @Field(() => User)
  user!: User;

  @Field({ description: 'The page (a path on this site) the person was heading to when they signed in.' })
  next!: string;
}

@ObjectType({ description: 'Who a sign-up ticket will create an account for.' })
export class OAuthSignUpPreview {
  @Field(() => AuthProvider)
  provider!: AuthProvider;

  @Field({ description: 'Verified by the provider; the new account gets this address.' })
  email!: string;

  @Field({ description: 'The name the provider gave.' })
  name!: string;
}

@InputType()
export class UnlinkOAuthIdentityInput {
  @Field(() => ID)
  identityId!: string;
}

@ObjectType()
export class UnlinkOAuthIdentityPayload {
  @Field(() => OAuthIdentity)
  identity!: OAuthIdentity;
}
