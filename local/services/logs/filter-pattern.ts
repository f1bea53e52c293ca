import { invalid } from './errors';

/**
 * CloudWatch Logs' term filter patterns, the part this slice serves:
 * - `ERROR Exception`: every term must occur (case-sensitive);
 * - `"connection reset"`: a quoted term may hold spaces and punctuation;
 * - `?ERROR ?WARN`: any of the `?` terms must occur;
 * - `ERROR -DEBUG`: a `-` term must not occur;
 * - `%regex%`: a regular expression must match;
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

function term(token: string): Term {
  const kind = token.startsWith('?') ? 'any' : token.startsWith('-') ? 'none' : 'all';
  const body = kind === 'all' ? token : token.slice(1);
  if (body.startsWith('%') && body.endsWith('%') && body.length > 2) {
    let re: RegExp;
    try {
      re = new RegExp(body.slice(1, -1));
    } catch {
      throw invalid(`Invalid regular expression in filter pattern: ${body}`);
    }
    return { kind, test: (m) => re.test(m) };
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
  const terms = tokens(trimmed).map(term);
  const all = terms.filter((t) => t.kind === 'all');
  const any = terms.filter((t) => t.kind === 'any');
  const none = terms.filter((t) => t.kind === 'none');
  return (m) =>
    all.every((t) => t.test(m)) && (any.length === 0 || any.some((t) => t.test(m))) && !none.some((t) => t.test(m));
}
