import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';

/** An engine on a unix socket that answers /_ping (podman's way or Docker's) and both network lists. */
async function fakeEngine(podman: boolean): Promise<{ socketPath: string; paths: string[]; close(): Promise<void> }> {
  const socketPath = join(mkdtempSync(join(tmpdir(), 'berth-engine-')), 'engine.sock');
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url!.split('?')[0]);
    res.setHeader('Content-Type', 'application/json');
    if (podman) res.setHeader('Libpod-Api-Version', '4.3.1');
    if (req.url!.startsWith('/_ping')) return res.end('OK');
    if (req.url!.includes('/libpod/networks/json')) return res.end(JSON.stringify([{ name: 'from-libpod' }]));
    if (req.url!.includes('/networks')) return res.end(JSON.stringify([{ Name: 'from-docker' }]));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return { socketPath, paths, close: () => new Promise((r) => server.close(() => r())) };
}

describe('DockerRuntime', () => {
  describe('listNetworks', () => {
    it.each([
      [true, 'from-libpod', '/v4.0.0/libpod/networks/json'],
      [false, 'from-docker', '/networks'],
    ])('tells podman (%s) from its ping, never asking /version or /info, and lists by its own API', async (podman, name, listPath) => {
      // Prepare
      const engine = await fakeEngine(podman);
      const runtime = new DockerRuntime({ socketPath: engine.socketPath });

      // Act
      const first = await runtime.listNetworks({ 'berth.host': 'h1' });
      const second = await runtime.listNetworks({ 'berth.host': 'h1' });
      await engine.close();

      // Assess: one ping for both lists.
      expect([first, second]).toEqual([[name], [name]]);
      expect(engine.paths.filter((p) => p.endsWith('/_ping'))).toHaveLength(1);
      expect(engine.paths.some((p) => /\/(version|info)$/.test(p))).toBe(false);
      expect(engine.paths).toContain(listPath);
    });
  });
});
