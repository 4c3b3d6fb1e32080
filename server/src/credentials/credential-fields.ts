import { Ctx, FieldResolver, Resolver, Root, type ClassType } from 'type-graphql';
import { User } from '../accounts/user.entity.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { CloudAuth } from './cloud-auth.entity.js';
import { sealedOf } from './credential.service.js';
import { CredentialUse } from './credentials.types.js';
import type { RegistryAuth } from './registry-auth.entity.js';

/**
 * The redacted view every credential type shares, as a base for its resolver: the
 * stored secret itself has no field, these say enough to tell credentials apart.
 */
export function credentialFieldsResolver<T extends CloudAuth | RegistryAuth>(type: ClassType<T>) {
  @Resolver(() => type)
  abstract class CredentialFields {
    @FieldResolver(() => String, {
      description:
        'The secret redacted: ••••abcd (its last 4 characters) when at least 16 long, else ••••••••.',
    })
    maskedSecret(@Root() credential: T): string {
      return sealedOf(credential).masked;
    }

    @FieldResolver(() => String, {
      description: 'A keyed hash prefix of the secret: equal secrets have equal fingerprints on this server.',
    })
    fingerprint(@Root() credential: T): string {
      return sealedOf(credential).fingerprint;
    }

    @FieldResolver(() => User, { nullable: true, description: 'Null once their account is deleted.' })
    createdBy(@Root() credential: T, @Ctx() { services }: GraphQLContext): Promise<User | null> {
      return services.credentials.createdBy(credential);
    }

    @FieldResolver(() => [CredentialUse], { description: 'While anything uses it, it cannot be deleted.' })
    usedBy(@Root() credential: T, @Ctx() { services }: GraphQLContext): Promise<CredentialUse[]> {
      return services.credentials.usedBy(credential);
    }
  }
  return CredentialFields;
}
