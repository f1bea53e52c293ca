/**
 * Configuration from environment variables, checked once when a process starts: each variable
 * has a parser of its text and says in words what it accepts, so a bad value stops the process
 * with `NAME: expected ..., got "..."` instead of running on NaN. Small and free of server code
 * and of libraries: the agent bundle uses it too (zod here cost every agent about 10 MiB).
 */

export type Environment = Readonly<Record<string, string | undefined>>;

/** Every bad or missing variable of one environment, one line each. */
export class ConfigurationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigurationError';
  }
}

type WhenUnset<T> = { kind: 'optional' } | { kind: 'required' } | { kind: 'default'; value: T };

/** One variable: how its text is parsed, what it accepts, and what holds when it is unset. */
export class Variable<T, Unset extends 'optional' | 'filled' = 'optional'> {
  /** Type only: whether an unset variable reads as undefined ('optional') or as a value. */
  declare readonly unset: Unset;

  constructor(
    readonly accepts: string,
    /** The variable's value from its text; throws when the text is not one it accepts. */
    readonly parse: (text: string) => T,
    readonly whenUnset: WhenUnset<T> = { kind: 'optional' },
    /** Whether an empty value is a value (e.g. "no capabilities") rather than unset. */
    readonly emptyIsValue = false,
  ) {}

  default(value: T): Variable<T, 'filled'> {
    return new Variable(this.accepts, this.parse, { kind: 'default', value }, this.emptyIsValue);
  }

  required(): Variable<T, 'filled'> {
    return new Variable(this.accepts, this.parse, { kind: 'required' }, this.emptyIsValue);
  }

  /** An empty value is parsed (the schema decides what it means) rather than taken for unset. */
  keepEmpty(): Variable<T, Unset> {
    return new Variable(this.accepts, this.parse, this.whenUnset, true);
  }
}

export type Schema = Record<string, Variable<any, 'optional' | 'filled'>>;

/** What a schema reads to: a variable that may be unset and has no default may be undefined. */
export type Configuration<S extends Schema> = {
  [K in keyof S]: S[K] extends Variable<infer T, infer U> ? (U extends 'filled' ? T : T | undefined) : never;
};

const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

/** Reads every variable of `schema` from `env`; throws one ConfigurationError naming each bad one. */
export function readEnvironment<S extends Schema>(schema: S, env: Environment): Configuration<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, v] of Object.entries(schema)) {
    const raw = env[name];
    if (raw === undefined || (raw === '' && !v.emptyIsValue)) {
      if (v.whenUnset.kind === 'required') problems.push(`${name}: is not set; expected ${v.accepts}`);
      out[name] = v.whenUnset.kind === 'default' ? v.whenUnset.value : undefined;
      continue;
    }
    try {
      out[name] = v.parse(raw);
    } catch {
      problems.push(`${name}: expected ${v.accepts}, got ${quote(raw)}`);
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return out as Configuration<S>;
}

/** Some variables of a schema, for a process that reads only those. */
export const pick = <S extends Schema, K extends keyof S>(schema: S, ...names: K[]): Pick<S, K> =>
  Object.fromEntries(names.map((n) => [n, schema[n]])) as Pick<S, K>;

/** The names a schema reads: what a parent passes on to a child process, and nothing else. */
export const variableNames = (schema: Schema): string[] => Object.keys(schema);

// The kinds of variable Berth has.

/** What a parser throws for text its variable does not accept (readEnvironment words the problem). */
const refuse = (): never => {
  throw new Error('not accepted');
};

/** The text when the whole of it matches the pattern. */
const matching = (pattern: RegExp, text: string): string => {
  pattern.lastIndex = 0;
  return pattern.test(text) ? text : refuse();
};

export const wholeNumber = (min: number, max: number): Variable<number> => new Variable(
  `a whole number from ${min} to ${max}`,
  (s) => {
    const n = Number(matching(/^\s*\d+\s*$/, s));
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : refuse();
  },
);

export const oneOf = <const T extends string>(values: readonly T[]): Variable<T> => new Variable(
  `one of ${values.join(', ')}`,
  (s) => (values.includes(s as T) ? s as T : refuse()),
);

/** 1/true/yes or 0/false/no. */
export const flag = (): Variable<boolean> => new Variable(
  'a flag: 1, true or yes; 0, false or no',
  (s) => {
    const v = s.trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(v)) return true;
    return ['0', 'false', 'no'].includes(v) ? false : refuse();
  },
);

export const text = (accepts: string, pattern: RegExp): Variable<string> => new Variable(accepts, (s) => matching(pattern, s));

export const url = (): Variable<string> => new Variable(
  'an http or https URL',
  (s) => {
    const trimmed = matching(/^https?:\/\/\S/i, s.trim());
    return URL.canParse(trimmed) ? trimmed : refuse();
  },
);

export const absolutePath = (): Variable<string> => text('an absolute path', /^\/\S*$/);

/** Comma-separated items, each matching `item`; empty means none. */
export const list = (accepts: string, item: RegExp): Variable<string[]> => new Variable(
  accepts,
  (s) => s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => matching(item, x)),
);

/** `Name=seconds,Name=seconds`: a positive number of seconds per named thing. */
export const secondsByName = (accepts: string): Variable<Record<string, number>> => new Variable(
  accepts,
  (s) => Object.fromEntries(s.split(',').map((pair) => {
    const parts = pair.split('=').map((x) => x.trim());
    if (parts.length !== 2) refuse();
    const seconds = Number(matching(/^\d+$/, parts[1]));
    return [matching(/^[A-Za-z][A-Za-z0-9]*$/, parts[0]), Number.isSafeInteger(seconds) && seconds >= 1 ? seconds : refuse()];
  })),
);

/** Text that `parse` accepts; `parse` throws otherwise. */
export const checked = <T>(accepts: string, parse: (text: string) => T): Variable<T> => new Variable(accepts, parse);

/** A JSON document that `check` accepts; `check` throws otherwise. */
export const json = <T>(accepts: string, check: (value: unknown) => T): Variable<T> =>
  checked(accepts, (s) => check(JSON.parse(s)));

export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** A CloudWatch Logs group name, as CreateLogGroup accepts it. */
export const logGroupName = (accepts = 'a CloudWatch Logs group name'): Variable<string> => text(accepts, /^[\w#\-./]{1,512}$/);

export const awsRegion = (): Variable<string> => text('an AWS Region, e.g. us-east-1', AWS_REGION_PATTERN);

export const arn = (service: string, what: string): Variable<string> =>
  text(`${what} ARN (arn:aws:${service}:...)`, new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:\\S+$`));
