import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ECSClient } from '@aws-sdk/client-ecs';
import { type AddressInfo } from 'node:net';
import { type Server, createServer } from 'node:http';
import { runTasks } from '../bench/support/ecs-calls';

describe('bench ECS calls', () => {
  describe('runTasks', () => {
    let server: Server;
    /** Each RunTask body the server received; the first connection is closed unanswered. */
    const bodies: { clientToken?: string; count?: number }[] = [];
    let ecs: ECSClient;

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          bodies.push(JSON.parse(body) as { clientToken?: string });
          if (bodies.length === 1) {
            req.socket.destroy();
            return;
          }
          res.setHeader('Content-Type', 'application/x-amz-json-1.1');
          res.end(JSON.stringify({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/default/t1' }], failures: [] }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ecs = new ECSClient({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', maxAttempts: 1,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
    });
    afterAll(async () => {
      ecs.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('sends a call whose connection was reset once more, with the same clientToken', async () => {
      // Prepare
      const said = jest.spyOn(console, 'error').mockImplementation(() => {});

      // Act
      const arns = await runTasks(ecs, 'family', 1);

      // Assess
      const lines = said.mock.calls.map(([line]) => String(line));
      said.mockRestore();
      expect(arns).toEqual(['arn:aws:ecs:us-east-1:000000000000:task/default/t1']);
      expect(bodies).toHaveLength(2);
      expect(bodies[0].clientToken).toEqual(expect.any(String));
      expect(bodies[1].clientToken).toBe(bodies[0].clientToken);
      expect(lines).toEqual([expect.stringContaining('sent again with the same clientToken')]);
    });
  });
});
