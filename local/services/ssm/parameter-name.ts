import type { Partition } from '../../../shared/domain/arns';
import { ValidationException } from '../errors';

/** Parameter Store's names: letters, digits and `._-`, in `/`-separated levels when a path. */
const SEGMENT = /^[a-zA-Z0-9_.-]+$/;
const PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter(\/.+)$/;

export const INVALID_PARAMETER_NAME =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of ' +
  'sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

export function isValidParameterName(name: string): boolean {
  if (name.length < 1 || name.length > 2048) return false;
  const levels = name.startsWith('/') ? name.slice(1).split('/') : [name];
  if (levels.some((l) => !SEGMENT.test(l))) return false;
  return !/^(aws|ssm)/i.test(levels[0]);
}

export function validateParameterName(name: string): string {
  if (!isValidParameterName(name)) throw new ValidationException(INVALID_PARAMETER_NAME);
  return name;
}

/** A name's ARN: a path keeps its leading slash after `parameter`, a plain name gets one. */
export const parameterArn = (p: Partition, name: string): string =>
  `arn:aws:ssm:${p.region}:${p.accountId}:parameter${name.startsWith('/') ? name : `/${name}`}`;

/**
 * What a GetParameter(s) `Name` refers to: a name or an ARN, with an optional `:version`
 * selector. `candidates` are the names it may mean (an ARN does not say whether the name had a
 * leading slash); `elsewhere` is an ARN of another region or account.
 */
export interface ParameterRef {
  candidates: string[];
  selector?: string;
  elsewhere: boolean;
}

export function parseParameterRef(p: Partition, ref: string): ParameterRef | undefined {
  const arn = PARAMETER_ARN.exec(ref);
  if (arn) {
    const [, region, account, rawPath] = arn;
    const [path, selector] = splitSelector(rawPath);
    const candidates = [path, path.slice(1)].filter(isValidParameterName);
    return candidates.length ? { candidates, selector, elsewhere: region !== p.region || account !== p.accountId } : undefined;
  }
  if (ref.startsWith('arn:')) return undefined;
  const [name, selector] = splitSelector(ref);
  return isValidParameterName(name) ? { candidates: [name], selector, elsewhere: false } : undefined;
}

function splitSelector(s: string): [string, string | undefined] {
  const i = s.lastIndexOf(':');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
