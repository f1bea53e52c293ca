import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleControlPlane } from '../../local/control-plane-bundle';

describe('the control plane bundle', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-control-plane-bundle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries dockerode with the agent\'s stand-ins for ssh2 and BuildKit, and leaves other packages in node_modules', async () => {
    // Act
    const { outfile, metafile } = await bundleControlPlane(join(dir, 'control-plane.js'));

    // Assess
    const inputs = Object.keys(metafile!.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['node_modules/dockerode/lib/docker.js', 'node_modules/docker-modem/lib/modem.js', 'without-ssh:ssh2']));
    expect(inputs.filter((i) => /node_modules\/(ssh2|@grpc|protobufjs|dynalite|@aws-sdk)\//.test(i))).toEqual([]);
    const required = new Set([...readFileSync(outfile, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    expect([...required]).toEqual(expect.arrayContaining(['dynalite', '@aws-sdk/client-dynamodb']));
    expect([...required]).not.toContain('ssh2');
    expect([...required]).not.toContain('dockerode');
  });

  it('loads with the repository\'s node_modules and stops at a bad configuration, as `npm start` would', async () => {
    // Prepare
    const { outfile } = await bundleControlPlane(join(dir, 'control-plane.js'));

    // Act: node resolves the packages left out from the repository's node_modules, as from .build/.
    const ran = spawnSync(process.execPath, ['--max-semi-space-size=2', outfile], {
      cwd: dir, env: { PATH: process.env.PATH, NODE_PATH: join(__dirname, '..', '..', 'node_modules'), BERTH_PORT: 'not-a-port' }, encoding: 'utf8',
    });

    // Assess
    expect(ran.stderr).not.toContain('Cannot find module');
    expect(ran.stderr).toContain('berth: bad configuration');
    expect(ran.status).toBe(2);
  });
});
