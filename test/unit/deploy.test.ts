import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StackPort, publishAgent } from '../../deploy/deploy';

describe('npm run deploy', () => {
  describe('publishAgent', () => {
    it('uploads the bundle under the key its hash names, to the stack\'s bucket, and says what to run next', async () => {
      // Prepare
      const bundle = join(mkdtempSync(join(tmpdir(), 'berth-deploy-')), 'agent.js');
      writeFileSync(bundle, 'console.log("agent")');
      const sha256 = createHash('sha256').update('console.log("agent")').digest('hex');
      const uploads: Array<[string, string, string]> = [];
      const asked: string[] = [];
      const stack: StackPort = {
        endpoint: async (name) => (asked.push(name), 'https://abc.execute-api.eu-west-1.amazonaws.com'),
        artifactsBucket: async (name) => (asked.push(name), 'berth-prod-agentartifactsbucket-1x2y'),
        upload: async (bucket, key, body) => void uploads.push([bucket, key, body.toString()]),
      };
      const lines: string[] = [];

      // Act
      const r = await publishAgent(stack, 'prod', (l) => lines.push(l), bundle);

      // Assess
      expect(asked).toEqual(['berth-prod', 'berth-prod']);
      expect(uploads).toEqual([['berth-prod-agentartifactsbucket-1x2y', `agent/${sha256}.js`, 'console.log("agent")']]);
      expect(r).toEqual({ endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com', key: `agent/${sha256}.js` });
      expect(lines.join('\n')).toContain('The ECS API is at https://abc.execute-api.eu-west-1.amazonaws.com');
      expect(lines.join('\n')).toContain('npm run keys -- bootstrap --stage prod');
    });
  });
});
