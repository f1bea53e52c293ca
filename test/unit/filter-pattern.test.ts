import fc from 'fast-check';
import { MAX_REGEX_TERMS, parseFilterPattern } from '../../local/services/logs/filter-pattern';
import { InvalidParameterException } from '../../shared/domain/errors';

/** CloudWatch Logs' largest event: 256 KiB. */
const LONGEST_EVENT = 'a'.repeat(256 * 1024);

describe('Logs filter patterns', () => {
  describe('regular expressions', () => {
    it.each([
      ['%ERR[0-9]+%', 'ERR42 disk full', true],
      ['%ERR[0-9]+%', 'ERR disk full', false],
      ['%^/health$%', '/health', true],
      ['%^/health$%', 'GET /health', false],
      ['%[Ee]rror|[Ff]ail%', 'the job ended', false],
      ['%[Ee]rror|[Ff]ail%', 'the job Failed', true],
      ['?%timeout% ?%refused%', 'connection refused', true],
      ['ERROR -%retry.[0-9]%', 'ERROR gave up', true],
      ['ERROR -%retry.[0-9]%', 'ERROR retry 3', false],
      ['%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%', 'from 10.0.0.12', true],
    ])('%s on %j matches: %s', (pattern, message, expected) => {
      expect(parseFilterPattern(pattern)(message)).toBe(expected);
    });

    // V8's backtracking engine does not finish these on a 2,000-character line in a minute.
    it.each(['%\\w*\\w*\\w*\\w*[^a]%', '%a*a*a*a*a*a*b%', '%.*.*.*.*=%', '%[a-z]+[a-z]+[a-z]+[a-z]+$[a-z]%'])(
      '%s runs in linear time: it answers for the longest event CloudWatch takes', (pattern) => {
        // Act
        const matches = parseFilterPattern(pattern)(LONGEST_EVENT);

        // Assess
        expect(matches).toBe(false);
      });

    it.each([
      ['a group', '%(a+)+b%'],
      ['a lookahead', '%a(?=b)%'],
      ['a backreference group', '%(a)\\1%'],
      ['a multi-byte character', '%café%'],
      ['an unsupported symbol', '%something!%'],
      ['a space', '%two words%'],
      ['a broken class', '%[a-%'],
      ['a repeat beyond RE2’s limit', '%a{1001}%'],
      [`more than ${MAX_REGEX_TERMS} regular expressions`, '%a% %b% %c%'],
      [`more than ${MAX_REGEX_TERMS} regular expressions, however marked`, '?%a% ?%b% -%c%'],
    ])('refuses %s', (_what, pattern) => {
      expect(() => parseFilterPattern(pattern)).toThrow(InvalidParameterException);
    });

    it('takes any pattern of CloudWatch’s regex alphabet, or refuses it, and then matches any event', () => {
      const alphabet = fc.constantFrom(...'ab09_#=@/;,-^$?[]{}|\\*+.'.split(''));
      fc.assert(fc.property(fc.array(alphabet, { minLength: 1, maxLength: 30 }), fc.string({ maxLength: 200 }), (chars, message) => {
        let matches;
        try {
          matches = parseFilterPattern(`%${chars.join('')}%`);
        } catch (e) {
          if (!(e instanceof InvalidParameterException)) throw e;
          return;
        }
        expect(typeof matches(message)).toBe('boolean');
      }), { numRuns: 1000 });
    });
  });
});
