import fc from 'fast-check';
import { InvalidParameterValue, parseQueryParams, queryErrorResponse, queryResponse, toXml } from '../../shared/aws-protocol/query';
import { EcsError } from '../../shared/domain/errors';

const XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

describe('AWS query protocol', () => {
  describe('parseQueryParams', () => {
    it('reads lists (member.N), nested structures and plain members, leaving Action and Version aside', () => {
      const form = new URLSearchParams('Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=arn%3Atg' +
        '&Targets.member.2.Id=10.0.0.2&Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=8080&Matcher.HttpCode=200-299&Names.member.1=a');

      const parsed = parseQueryParams(form);

      expect(parsed).toEqual({
        action: 'RegisterTargets', version: '2015-12-01',
        params: { TargetGroupArn: 'arn:tg', Targets: [{ Id: '10.0.0.1', Port: '8080' }, { Id: '10.0.0.2' }], Matcher: { HttpCode: '200-299' }, Names: ['a'] },
      });
    });

    it.each(['__proto__.x=1', 'A.member.0=1', 'A.member.99999=1', 'A..B=1'])('refuses %s', (form) => {
      expect(() => parseQueryParams(new URLSearchParams(form))).toThrow(InvalidParameterValue);
    });

    it('never throws anything but InvalidParameterValue, whatever the form (fuzzed)', () => {
      const key = fc.array(fc.constantFrom('A', 'B', 'member', '1', '2', '', 'constructor'), { minLength: 1, maxLength: 5 }).map((p) => p.join('.'));
      fc.assert(fc.property(fc.array(fc.tuple(key, fc.string()), { maxLength: 10 }), (pairs) => {
        try {
          parseQueryParams(new URLSearchParams(pairs));
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidParameterValue);
        }
      }));
    });
  });

  describe('responses', () => {
    it('wraps a result in NAMEResponse/NAMEResult with lists as members and text escaped', () => {
      expect(toXml({ A: [{ B: 'x<y' }, { B: true }], C: undefined, D: 3 })).toBe('<A><member><B>x&lt;y</B></member><member><B>true</B></member></A><D>3</D>');
      const r = queryResponse({ xmlns: XMLNS }, 'DescribeThings', { Things: [] }, 'req-1');
      expect(r.body).toBe(`<DescribeThingsResponse xmlns="${XMLNS}"><DescribeThingsResult><Things></Things></DescribeThingsResult>` +
        '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeThingsResponse>');
    });

    it('shapes an error as ErrorResponse with its code, message and status', () => {
      const e = Object.assign(new EcsError('One or more target groups not found'), { name: 'TargetGroupNotFound' });
      const r = queryErrorResponse({ xmlns: XMLNS }, e, 'req-2');
      expect(r.statusCode).toBe(400);
      expect(r.body).toBe(`<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>` +
        '<Message>One or more target groups not found</Message></Error><RequestId>req-2</RequestId></ErrorResponse>');
    });
  });
});
