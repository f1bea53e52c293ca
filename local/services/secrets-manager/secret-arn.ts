import { randomInt } from 'node:crypto';
import type { Partition } from '../../../shared/domain/arns';
import { ValidationException } from '../errors';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Secrets Manager's names: letters, digits and /_+=.@!- (no colon, so an ARN never parses as one). */
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@!-]{1,512})$/;

export const INVALID_NAME = 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';

/** arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX, the suffix six random characters. */
export function newSecretArn(p: Partition, name: string): string {
  let suffix = '';
  while (suffix.length < 6) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `arn:aws:secretsmanager:${p.region}:${p.accountId}:secret:${name}-${suffix}`;
}

/**
 * What a SecretId names: a name, a full ARN or a partial one (without the suffix). `names` are
 * the candidates to look up, most specific first; `arn` is set when the caller gave an ARN,
 * which the found secret's own ARN must then match in full or as a prefix.
 */
export interface SecretIdRef {
  names: string[];
  arn?: string;
  /** An ARN of another region or account: no secret here. */
  elsewhere: boolean;
}

export function parseSecretId(p: Partition, id: string): SecretIdRef {
  if (!id.startsWith('arn:')) {
    if (!SECRET_NAME.test(id)) throw new ValidationException(INVALID_NAME);
    return { names: [id], elsewhere: false };
  }
  const m = SECRET_ARN.exec(id);
  if (!m) throw new ValidationException(INVALID_NAME);
  const [, region, account, rest] = m;
  const withoutSuffix = /^(.+)-[A-Za-z0-9]{6}$/.exec(rest)?.[1];
  return {
    names: withoutSuffix ? [withoutSuffix, rest] : [rest],
    arn: id,
    elsewhere: region !== p.region || account !== p.accountId,
  };
}

/** A full ARN matches exactly; a partial one matches the ARN it is a prefix of, up to the suffix. */
export const arnMatches = (secretArn: string, given: string): boolean =>
  secretArn === given || (secretArn.startsWith(`${given}-`) && secretArn.length === given.length + 7);
