import { describe, expect, it } from '@jest/globals';
import { clientSettings } from '../../local/client-settings';

describe('clientSettings', () => {
  describe('region', () => {
    it.each([
      ['the local mode\'s home region, whatever AWS_REGION says', { BERTH_REGION: 'eu-west-1', AWS_REGION: 'ap-south-1' }, 'eu-west-1'],
      ['us-east-1 locally when BERTH_REGION is unset', {}, 'us-east-1'],
      ['AWS_REGION for a deployed stack', { BERTH_ENDPOINT: 'https://api.example.com', AWS_REGION: 'eu-central-1' }, 'eu-central-1'],
      ['BERTH_REGION for a deployed stack when AWS_REGION is unset', { BERTH_ENDPOINT: 'https://api.example.com', BERTH_REGION: 'us-west-2' }, 'us-west-2'],
    ])('signs for %s', (_what, env, region) => {
      // Act
      const settings = clientSettings('test', { BERTH_DATA_DIR: '/nonexistent-berth-dir', ...env });

      // Assess
      expect(settings.region).toBe(region);
    });
  });
});
