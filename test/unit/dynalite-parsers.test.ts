import fc from 'fast-check';
import { DYNALITE_PARSERS, memoizeDynaliteParsers, packratSource } from '../../local/dynalite-parsers';

type Parse = (input: string, options?: object) => unknown;
// dynalite has no type declarations.
/* eslint-disable @typescript-eslint/no-require-imports */
const parsers: { parse: Parse }[] = DYNALITE_PARSERS.map((name) => require(`dynalite/db/${name}`));
const { validateExpressions } = require('dynalite/validations') as { validateExpressions: (data: Record<string, unknown>) => string | undefined };
/* eslint-enable @typescript-eslint/no-require-imports */
const originals = parsers.map((p) => p.parse);
const memoizedCount = memoizeDynaliteParsers();
const memoized = parsers.map((p) => p.parse);

interface Request {
  ConditionExpression?: string;
  UpdateExpression?: string;
  ProjectionExpression?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** What dynalite's validation makes of a request's expressions with the given parsers: its error, or every parsed tree. */
function validated(with_: Parse[], request: Request): string {
  parsers.forEach((p, i) => (p.parse = with_[i]));
  try {
    const data = structuredClone(request) as Record<string, unknown>;
    const error = validateExpressions(data);
    return JSON.stringify({ error, updates: data._updates, condition: data._condition, key: data._keyCondition, projection: data._projection });
  } finally {
    parsers.forEach((p, i) => (p.parse = memoized[i]));
  }
}

const NAMES = { '#h': 'hostId', '#v': 'containersVersion', '#s': 'status', '#c': 'cluster' };
const VALUES = { ':r': { N: '5' }, ':s': { N: '8' }, ':q': { N: '17' }, ':h': { S: 'i-1' }, ':v0': { N: '0' }, ':one': { N: '1' }, ':t': { S: 'RUNNING' } };

describe('dynalite parsers', () => {
  describe('memoizeDynaliteParsers', () => {
    it('memoizes all three of the installed dynalite\'s parsers', () => {
      expect(memoizedCount).toBe(DYNALITE_PARSERS.length);
      expect(memoized).not.toEqual(originals);
    });

    it('leaves a source of another shape as it is', () => {
      expect(packratSource('module.exports = { parse() {} };')).toBeUndefined();
    });
  });

  describe('packrat parsers', () => {
    it.each<[string, Request]>([
      ['a task report\'s conditional update', {
        UpdateExpression: 'SET lastStatus = :t, statusRank = :r, #v = if_not_exists(#v, :v0) + :one ADD version :one',
        ConditionExpression: 'attribute_exists(taskId) AND ((statusRank < :r OR (statusRank = :r AND statusRank < :s AND ' +
          '(attribute_not_exists(reportSeq) OR reportSeq < :q))) AND #h = :h AND (attribute_not_exists(#v) OR #v = :v0))',
        ExpressionAttributeNames: { '#v': 'containersVersion', '#h': 'hostId' },
        ExpressionAttributeValues: { ':t': { S: 'RUNNING' }, ':r': { N: '5' }, ':v0': { N: '0' }, ':one': { N: '1' }, ':s': { N: '8' }, ':q': { N: '17' }, ':h': { S: 'i-1' } },
      }],
      ['redundant parentheses', { ConditionExpression: '((a = :r))', ExpressionAttributeValues: { ':r': { N: '1' } } }],
      ['an undefined name', { ConditionExpression: '#nope = :r', ExpressionAttributeValues: { ':r': { N: '1' } } }],
      ['an unused value', { ConditionExpression: 'a = :r', ExpressionAttributeValues: { ':r': { N: '1' }, ':x': { N: '2' } } }],
      ['a reserved word', { ConditionExpression: 'status = :r', ExpressionAttributeValues: { ':r': { N: '1' } } }],
      ['a syntax error', { ConditionExpression: 'a = :r AND OR b', ExpressionAttributeValues: { ':r': { N: '1' } } }],
      ['a misused size', { ConditionExpression: 'size(a)', ExpressionAttributeValues: undefined }],
      ['an update syntax error', { UpdateExpression: 'SET a = :r REMOVE', ExpressionAttributeValues: { ':r': { N: '1' } } }],
      ['a key condition', { KeyConditionExpression: '#c = :h AND begins_with(taskId, :t)', ExpressionAttributeNames: { '#c': 'cluster' }, ExpressionAttributeValues: { ':h': { S: 'x' }, ':t': { S: 'y' } } }],
      ['a projection', { ProjectionExpression: 'a, b.c[2], #c', ExpressionAttributeNames: { '#c': 'cluster' } }],
    ])('read %s as the generated parsers do', (_what, request) => {
      expect(validated(memoized, request)).toBe(validated(originals, request));
    });

    it('agree with the generated parsers on any condition, update and projection, valid or not', () => {
      const name = fc.constantFrom('a', 'b.c', 'd[1]', '#h', '#v', '#s', '#undefined', 'status');
      const value = fc.constantFrom(':r', ':s', ':q', ':h', ':t', ':undefined');
      const operand = fc.oneof(name, value, name.map((n) => `size(${n})`));
      const comparison = fc.oneof(
        fc.tuple(operand, fc.constantFrom('=', '<>', '<', '<=', '>', '>='), operand).map(([x, op, y]) => `${x} ${op} ${y}`),
        fc.tuple(operand, value, value).map(([x, lo, hi]) => `${x} BETWEEN ${lo} AND ${hi}`),
        fc.tuple(operand, fc.array(value, { minLength: 1, maxLength: 3 })).map(([x, vs]) => `${x} IN (${vs.join(', ')})`),
        fc.tuple(fc.constantFrom('attribute_exists', 'attribute_not_exists', 'size', 'nope'), name).map(([f, n]) => `${f}(${n})`),
        fc.tuple(fc.constantFrom('begins_with', 'contains', 'attribute_type'), name, value).map(([f, n, v]) => `${f}(${n}, ${v})`),
      );
      const { condition } = fc.letrec<{ condition: string }>((tie) => ({
        condition: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          comparison,
          tie('condition').map((c) => `(${c})`),
          tie('condition').map((c) => `NOT ${c}`),
          fc.tuple(tie('condition'), fc.constantFrom(' AND ', ' OR ', 'AND', ' or '), tie('condition')).map(([x, op, y]) => `${x}${op}${y}`),
        ),
      }));
      const update = fc.array(fc.oneof(
        fc.tuple(name, operand).map(([n, v]) => `SET ${n} = ${v}`),
        fc.tuple(name, name, value, value).map(([n, m, v, w]) => `SET ${n} = if_not_exists(${m}, ${v}) + ${w}`),
        name.map((n) => `REMOVE ${n}`),
        fc.tuple(name, value).map(([n, v]) => `ADD ${n} ${v}`),
      ), { minLength: 1, maxLength: 3 }).map((sections) => sections.join(' '));
      const projection = fc.array(name, { minLength: 1, maxLength: 4 }).map((ns) => ns.join(', '));
      // A typo anywhere: a character dropped or doubled.
      const garbled = (expression: fc.Arbitrary<string>) => fc.tuple(expression, fc.nat(), fc.boolean()).map(([e, at, drop]) => {
        const i = e.length === 0 ? 0 : at % e.length;
        return drop ? e.slice(0, i) + e.slice(i + 1) : e.slice(0, i) + e[i] + e.slice(i);
      });
      const maybeGarbled = (expression: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: expression }, { weight: 1, arbitrary: garbled(expression) });
      const request = fc.record({
        ConditionExpression: fc.option(maybeGarbled(condition), { nil: undefined }),
        UpdateExpression: fc.option(maybeGarbled(update), { nil: undefined }),
        ProjectionExpression: fc.option(maybeGarbled(projection), { nil: undefined }),
      }).map((r): Request => ({ ...r, ExpressionAttributeNames: NAMES, ExpressionAttributeValues: VALUES }));

      fc.assert(fc.property(request, (r) => {
        expect(validated(memoized, r)).toBe(validated(originals, r));
      }), { numRuns: 400 });
    });

    it('parse a deeply nested condition in linear time: the generated parser would not answer before the test\'s timeout', () => {
      // Prepare: 40 levels of `(a = :r OR (...))`; the generated parser re-parses each level at least twice.
      let condition = 'a = :r';
      for (let i = 0; i < 40; i++) condition = `a = :r OR (${condition})`;

      // Act
      const result = validated(memoized, { ConditionExpression: condition, ExpressionAttributeValues: { ':r': { N: '1' } } });

      // Assess
      expect(JSON.parse(result).error).toBeUndefined();
    });
  });
});
