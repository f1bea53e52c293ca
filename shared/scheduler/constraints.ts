import { InvalidParameterException } from '../domain/errors';

/**
 * ECS's cluster query language, the subset a memberOf constraint can judge from what Berth knows
 * of a host: `attribute:NAME` and `ec2InstanceId` as subjects; ==, !=, >, >=, <, <=, exists,
 * !exists, in, !in, =~, !~ (and their word forms) as operators; and, or, not (&&, ||, !) with
 * parentheses. The subjects that change with time (task:group, runningTasksCount,
 * agentConnected, agentVersion, registeredAt) are refused rather than judged from a stale view:
 * the plan applier could not re-check them in its conditional write.
 */

/** What an expression can see of a host. */
export interface HostFacts {
  readonly hostId: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export type HostPredicate = (host: HostFacts) => boolean;

const UNSUPPORTED_SUBJECTS = ['task:group', 'runningTasksCount', 'agentConnected', 'agentVersion', 'registeredAt'];

const OPERATORS: Record<string, string> = {
  '==': '==', equals: '==',
  '!=': '!=', not_equals: '!=',
  '>': '>', greater_than: '>',
  '>=': '>=', greater_than_equal: '>=',
  '<': '<', less_than: '<',
  '<=': '<=', less_than_equal: '<=',
  exists: 'exists',
  '!exists': '!exists', not_exists: '!exists',
  in: 'in',
  '!in': '!in', not_in: '!in',
  '=~': '=~', matches: '=~',
  '!~': '!~', not_matches: '!~',
};

type Token = { kind: 'word' | 'quoted' | 'punct' | 'op'; text: string };

const invalid = (expression: string, why: string): InvalidParameterException =>
  new InvalidParameterException(`Invalid placement constraint expression '${expression}': ${why}.`);

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i];
    if (/\s/.test(c)) { i++; continue; }
    if ('()[],'.includes(c)) { tokens.push({ kind: 'punct', text: c }); i++; continue; }
    if (c === '"' || c === "'") {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) throw invalid(expression, 'unterminated quoted value');
      tokens.push({ kind: 'quoted', text: expression.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = expression.slice(i, i + 2);
    if (['&&', '||', '==', '!=', '>=', '<=', '=~', '!~'].includes(two)) { tokens.push({ kind: 'op', text: two }); i += 2; continue; }
    if (c === '>' || c === '<' || c === '!') { tokens.push({ kind: 'op', text: c }); i++; continue; }
    let j = i;
    while (j < expression.length && !/[\s()[\],=!<>&|"']/.test(expression[j])) j++;
    if (j === i) throw invalid(expression, `unexpected '${c}'`);
    tokens.push({ kind: 'word', text: expression.slice(i, j) });
    i = j;
  }
  return tokens;
}

/** Compiles a memberOf expression into a predicate; throws InvalidParameterException for what it cannot judge. */
export function compileExpression(expression: string): HostPredicate {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const isWord = (t: Token | undefined, ...words: string[]) => t !== undefined && t.kind === 'word' && words.includes(t.text);
  const expect = (text: string): void => {
    const t = tokens[at++];
    if (!t || t.text !== text) throw invalid(expression, `expected '${text}'${t ? ` before '${t.text}'` : ' at the end'}`);
  };

  const literal = (): string => {
    const t = tokens[at++];
    if (!t || (t.kind !== 'word' && t.kind !== 'quoted')) throw invalid(expression, 'missing argument');
    return t.text;
  };

  const operator = (): string => {
    const t = tokens[at++];
    if (!t) throw invalid(expression, 'missing operator');
    let text = t.text;
    // `!exists` and `!in` arrive as '!' and a word.
    if (t.text === '!' && isWord(peek(), 'exists', 'in')) text = `!${tokens[at++].text}`;
    const op = OPERATORS[text];
    if (!op || (t.kind === 'quoted')) throw invalid(expression, `unknown operator '${text}'`);
    return op;
  };

  const comparison = (): HostPredicate => {
    const t = tokens[at++];
    if (!t || t.kind !== 'word') throw invalid(expression, 'missing subject');
    const subject = t.text;
    let read: (h: HostFacts) => string | undefined;
    if (subject.startsWith('attribute:') && subject.length > 'attribute:'.length) {
      const name = subject.slice('attribute:'.length);
      read = (h) => h.attributes?.[name];
    } else if (subject === 'ec2InstanceId') {
      read = (h) => h.hostId;
    } else if (UNSUPPORTED_SUBJECTS.includes(subject)) {
      throw invalid(expression, `the subject ${subject} is not supported by Berth's placement`);
    } else {
      throw invalid(expression, `unknown subject '${subject}'`);
    }
    const op = operator();
    if (op === 'exists') return (h) => read(h) !== undefined;
    if (op === '!exists') return (h) => read(h) === undefined;
    if (op === 'in' || op === '!in') {
      expect('[');
      const list: string[] = [literal()];
      while (peek()?.text === ',') { at++; list.push(literal()); }
      expect(']');
      return op === 'in' ? (h) => { const v = read(h); return v !== undefined && list.includes(v); } : (h) => { const v = read(h); return v === undefined || !list.includes(v); };
    }
    const arg = literal();
    if (op === '==') return (h) => read(h) === arg;
    if (op === '!=') return (h) => read(h) !== arg;
    if (op === '=~' || op === '!~') {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${arg})$`);
      } catch {
        throw invalid(expression, `'${arg}' is not a valid pattern`);
      }
      return op === '=~' ? (h) => { const v = read(h); return v !== undefined && re.test(v); } : (h) => { const v = read(h); return v === undefined || !re.test(v); };
    }
    const compare = (v: string): number => {
      const x = Number(v);
      const y = Number(arg);
      return Number.isFinite(x) && Number.isFinite(y) && v.trim() !== '' && arg.trim() !== '' ? x - y : v < arg ? -1 : v > arg ? 1 : 0;
    };
    const holds: Record<string, (d: number) => boolean> = { '>': (d) => d > 0, '>=': (d) => d >= 0, '<': (d) => d < 0, '<=': (d) => d <= 0 };
    const test = holds[op];
    return (h) => { const v = read(h); return v !== undefined && test(compare(v)); };
  };

  const unary = (): HostPredicate => {
    const t = peek();
    if (t && ((t.kind === 'op' && t.text === '!') || isWord(t, 'not'))) {
      at++;
      const inner = unary();
      return (h) => !inner(h);
    }
    if (t?.text === '(' && t.kind === 'punct') {
      at++;
      const inner = or();
      expect(')');
      return inner;
    }
    return comparison();
  };

  const and = (): HostPredicate => {
    let left = unary();
    while (peek()?.text === '&&' || isWord(peek(), 'and')) {
      at++;
      const l = left;
      const r = unary();
      left = (h) => l(h) && r(h);
    }
    return left;
  };

  function or(): HostPredicate {
    let left = and();
    while (peek()?.text === '||' || isWord(peek(), 'or')) {
      at++;
      const l = left;
      const r = and();
      left = (h) => l(h) || r(h);
    }
    return left;
  }

  if (tokens.length === 0) throw invalid(expression, 'it is empty');
  const predicate = or();
  if (at < tokens.length) throw invalid(expression, `unexpected '${tokens[at].text}'`);
  return predicate;
}
