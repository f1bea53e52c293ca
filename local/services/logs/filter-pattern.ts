import { RE2JS } from 're2js';
import { invalid } from './errors';

/**
 * CloudWatch Logs' term filter patterns, the part this slice serves:
 * - `ERROR Exception`: every term must occur (case-sensitive);
 * - `"connection reset"`: a quoted term may hold spaces and punctuation;
 * - `?ERROR ?WARN`: any of the `?` terms must occur;
 * - `ERROR -DEBUG`: a `-` term must not occur;
 * - `%regex%`: a regular expression must match (at most two per pattern, in CloudWatch's
 *   syntax: see `compileRegex`);
 * - empty or `""`: every event matches.
 * JSON (`{ $.x = 1 }`) and space-delimited (`[ip, user, ...]`) patterns are refused.
 */
export type EventMatcher = (message: string) => boolean;

interface Term {
  kind: 'all' | 'any' | 'none';
  test: (message: string) => boolean;
}

function tokens(pattern: string): string[] {
  const out: string[] = [];
  const re = /\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|(%[^%]+%)|([^\s"]+))/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < pattern.length && (m = re.exec(pattern))) {
    at = re.lastIndex;
    out.push(m[1] + (m[2] !== undefined ? `"${m[2].replace(/\\(.)/g, '$1')}` : m[3] ?? m[4]));
  }
  if (pattern.slice(at).trim() !== '') throw invalid(`Invalid character(s) in term '${pattern.slice(at).trim()}'`);
  return out;
}

/** CloudWatch Logs' quota: at most two regular expressions in one filter pattern. */
export const MAX_REGEX_TERMS = 2;

/**
 * What CloudWatch Logs accepts inside `%…%`: letters and digits, the symbols `_ # = @ / ; , -`
 * and the operators `^ $ ? [ ] { } | \ * + .`. No parentheses, so no groups, lookarounds or
 * backreferences, and no multi-byte characters.
 */
const REGEX_SYNTAX = /^[A-Za-z0-9_#=@/;,\-^$?[\]{}|\\*+.]+$/;

const isRegex = (body: string) => body.startsWith('%') && body.endsWith('%') && body.length > 2;

/**
 * A user's regular expression, compiled for RE2's linear-time matcher (re2js, pure JavaScript)
 * rather than V8's backtracking one: whatever the pattern and the event, matching costs time in
 * proportion to the event's length, so no request can pin the process (`\w*\w*\w*x` on a long
 * line, or `(a+)+b` had CloudWatch's syntax allowed groups).
 */
function compileRegex(body: string): RE2JS {
  const source = body.slice(1, -1);
  if (!REGEX_SYNTAX.test(source)) {
    throw invalid(`Invalid regular expression in filter pattern: ${body}: only letters, digits, _#=@/;,- and the operators ^$?[]{}|\\*+. are supported`);
  }
  try {
    return RE2JS.compile(source);
  } catch {
    throw invalid(`Invalid regular expression in filter pattern: ${body}`);
  }
}

function term(token: string): Term {
  const kind = token.startsWith('?') ? 'any' : token.startsWith('-') ? 'none' : 'all';
  const body = kind === 'all' ? token : token.slice(1);
  if (isRegex(body)) {
    const re = compileRegex(body);
    return { kind, test: (m) => re.matcher(m).find() };
  }
  const text = body.startsWith('"') ? body.slice(1) : body;
  return { kind, test: (m) => m.includes(text) };
}

export function parseFilterPattern(pattern: string | undefined): EventMatcher {
  const trimmed = (pattern ?? '').trim();
  if (trimmed === '' || trimmed === '""') return () => true;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    throw invalid('Only term filter patterns are served by the local CloudWatch Logs slice; JSON and space-delimited patterns are not.');
  }
  const found = tokens(trimmed);
  if (found.filter((t) => isRegex(t.replace(/^[?-]/, ''))).length > MAX_REGEX_TERMS) {
    throw invalid(`A filter pattern may contain at most ${MAX_REGEX_TERMS} regular expressions.`);
  }
  const terms = found.map(term);
  const all = terms.filter((t) => t.kind === 'all');
  const any = terms.filter((t) => t.kind === 'any');
  const none = terms.filter((t) => t.kind === 'none');
  return (m) =>
    all.every((t) => t.test(m)) && (any.length === 0 || any.some((t) => t.test(m))) && !none.some((t) => t.test(m));
}
