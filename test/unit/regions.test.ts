import { describe, expect, it } from '@jest/globals';
import { RegionNotServedException, ownRegionOnly, servedRegion } from '../../shared/auth/regions';
import type { Berth } from '../../shared/context';
import { checkArnRegions } from '../../shared/domain/arns';
import { InvalidParameterException } from '../../shared/domain/errors';
import { regionTables } from '../../local/regions';
import { caught } from '../support/caught';

const EU = { region: 'eu-west-1', accountId: '123456789012' };

describe('regions', () => {
  describe('servedRegion', () => {
    it.each([
      ['an unsigned call: the home region', undefined, 'any', 'us-east-1'],
      ['the home region', 'us-east-1', ['us-east-1'], 'us-east-1'],
      ['any region, when any is served', 'ap-southeast-2', 'any', 'ap-southeast-2'],
      ['a listed region', 'eu-west-1', ['us-east-1', 'eu-west-1'], 'eu-west-1'],
    ] as const)('serves %s', (_, region, served, expected) => {
      expect(servedRegion({ region }, 'us-east-1', served)).toBe(expected);
    });

    it.each([
      ['a region not listed', 'eu-west-1', ['us-east-1']],
      ['what is no region, even when any is served', 'moon-base', 'any'],
    ] as const)('refuses %s with AWS\'s error', (_, region, served) => {
      const e = caught(() => servedRegion({ region }, 'us-east-1', served));
      expect(e).toBeInstanceOf(RegionNotServedException);
      expect(e).toMatchObject({ name: 'InvalidSignatureException', statusCode: 403, message: `Credential should be scoped to a valid region, not '${region}'. ` });
    });
  });

  describe('ownRegionOnly', () => {
    it('gives a deployed stack\'s Berth for its own region and refuses another', () => {
      const berth = { partition: EU } as Berth;
      const forCall = ownRegionOnly(() => berth);
      expect(forCall({ region: 'eu-west-1' })).toBe(berth);
      expect(forCall({})).toBe(berth);
      expect(caught(() => forCall({ region: 'us-east-1' }))).toBeInstanceOf(RegionNotServedException);
    });
  });

  describe('checkArnRegions', () => {
    it('lets names and this region\'s ARNs through', () => {
      expect(() => checkArnRegions(EU, {
        cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/web', tasks: ['0123456789abcdef0123456789abcdef'], taskDefinition: 'web:1',
        // Not a reference: a value in a container's environment may be any text.
        containerDefinitions: [{ environment: [{ name: 'X', value: 'arn:aws:ecs:us-east-1:123456789012:cluster/web' }] }],
      })).not.toThrow();
    });

    it.each([
      ['cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/web'],
      ['services', ['web', 'arn:aws:ecs:us-east-1:123456789012:service/web/api']],
      ['resourceArn', 'arn:aws:ecs:us-east-2:123456789012:task-definition/web:1'],
    ])('refuses another region\'s ARN in %s, as ECS does', (member, value) => {
      const e = caught(() => checkArnRegions(EU, { [member]: value }));
      expect(e).toBeInstanceOf(InvalidParameterException);
      expect((e as Error).message).toBe('Invalid Region in ARN');
    });
  });

  describe('regionTables', () => {
    it('gives another region tables of its own, and every region the account\'s access keys', () => {
      const home = regionTables('us-east-1', 'us-east-1');
      const eu = regionTables('eu-west-1', 'us-east-1');
      expect(home.clusters).toBe('berth-clusters');
      expect(eu.clusters).toBe('berth-eu-west-1-clusters');
      expect(eu.tasks).toBe('berth-eu-west-1-tasks');
      expect(eu.accessKeys).toBe(home.accessKeys);
    });
  });
});
