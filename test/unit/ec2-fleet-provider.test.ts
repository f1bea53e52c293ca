import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  type CreateFleetCommandInput,
  type CreateFleetCommandOutput,
  CreateFleetCommand,
  EC2Client,
  EC2ServiceException,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Market } from '../../shared/capacity/types';
import { Ec2FleetProvider, type Ec2FleetProviderOptions } from '../../shared/cloud/aws/ec2-fleet-provider';
import { agentUserData } from '../../shared/cloud/aws/user-data';
import { FleetLaunchError, type LaunchRequest } from '../../shared/cloud/fleet-provider';

// ---------------------------------------------------------------------------------------------
// The one fake: EC2Client.send.

type Send = (command: unknown) => Promise<unknown>;

function ec2With(send: jest.Mock<Send>): EC2Client {
  const ec2 = new EC2Client({ region: 'us-east-1' });
  ec2.send = send as unknown as EC2Client['send'];
  return ec2;
}

/** What the EC2 client throws: a service exception named by EC2's error code. */
const ec2Error = (code: string, message = code) =>
  new EC2ServiceException({ name: code, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });

const sentInputs = <T>(send: jest.Mock<Send>, type: new (...args: never[]) => { input: T }): T[] =>
  send.mock.calls.map(([command]) => command).filter((c): c is { input: T } => c instanceof type).map((c) => c.input);

const fleetOutput = (out: Partial<CreateFleetCommandOutput>) => ({ $metadata: {}, ...out });

const baseOptions = {
  launchTemplateId: 'lt-0123456789abcdef0',
  subnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
  stage: 'prod',
};

const request = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  instanceType: 'c6i.large',
  market: 'spot',
  count: 2,
  clientToken: 'launch-7f3a',
  ...over,
});

// ---------------------------------------------------------------------------------------------

describe('Ec2FleetProvider', () => {
  describe('launch', () => {
    it('sends one instant fleet from the launch template, one override per subnet', async () => {
      // Prepare
      const send = jest.fn<Send>().mockResolvedValue(
        fleetOutput({ Instances: [{ InstanceIds: ['i-01', 'i-02'], InstanceType: 'c6i.large', Lifecycle: 'spot' }] }),
      );
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      // Act
      await provider.launch(request());

      // Assess
      const tags = [
        { Key: 'Name', Value: 'berth-host' },
        { Key: 'berth:managed', Value: 'true' },
        { Key: 'berth:stage', Value: 'prod' },
        { Key: 'berth:market', Value: 'spot' },
        { Key: 'berth:launch', Value: 'launch-7f3a' },
      ];
      expect(send).toHaveBeenCalledTimes(1);
      expect(sentInputs<CreateFleetCommandInput>(send, CreateFleetCommand)).toEqual([
        {
          Type: 'instant',
          ClientToken: 'launch-7f3a',
          LaunchTemplateConfigs: [
            {
              LaunchTemplateSpecification: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '$Default' },
              Overrides: [
                { InstanceType: 'c6i.large', SubnetId: 'subnet-a' },
                { InstanceType: 'c6i.large', SubnetId: 'subnet-b' },
                { InstanceType: 'c6i.large', SubnetId: 'subnet-c' },
              ],
            },
          ],
          TargetCapacitySpecification: { TotalTargetCapacity: 2, DefaultTargetCapacityType: 'spot' },
          SpotOptions: { AllocationStrategy: 'price-capacity-optimized' },
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        },
      ]);
    });

    it.each<[Market, Partial<CreateFleetCommandInput>]>([
      ['spot', { SpotOptions: { AllocationStrategy: 'price-capacity-optimized' } }],
      ['on-demand', { OnDemandOptions: { AllocationStrategy: 'lowest-price' } }],
    ])('buys %s capacity with that market\'s allocation strategy only', async (market, options) => {
      const send = jest.fn<Send>().mockResolvedValue(fleetOutput({ Instances: [{ InstanceIds: ['i-01'] }] }));
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      await provider.launch(request({ market, count: 1 }));

      const [input] = sentInputs<CreateFleetCommandInput>(send, CreateFleetCommand);
      expect(input.TargetCapacitySpecification).toEqual({ TotalTargetCapacity: 1, DefaultTargetCapacityType: market });
      expect({ SpotOptions: input.SpotOptions, OnDemandOptions: input.OnDemandOptions }).toEqual({
        SpotOptions: undefined,
        OnDemandOptions: undefined,
        ...options,
      });
      for (const spec of input.TagSpecifications ?? []) {
        expect(spec.Tags).toContainEqual({ Key: 'berth:market', Value: market });
      }
    });

    it('tags instances and volumes alike, with the cluster tag when given', async () => {
      const send = jest.fn<Send>().mockResolvedValue(fleetOutput({ Instances: [{ InstanceIds: ['i-01'] }] }));
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions, clusterTag: 'berth-prod' });

      await provider.launch(request({ market: 'on-demand' }));

      const [input] = sentInputs<CreateFleetCommandInput>(send, CreateFleetCommand);
      expect(input.TagSpecifications?.map((s) => s.ResourceType)).toEqual(['instance', 'volume']);
      for (const spec of input.TagSpecifications ?? []) {
        expect(spec.Tags).toEqual(
          expect.arrayContaining([
            { Key: 'Name', Value: 'berth-host' },
            { Key: 'berth:managed', Value: 'true' },
            { Key: 'berth:stage', Value: 'prod' },
            { Key: 'berth:market', Value: 'on-demand' },
            { Key: 'berth:cluster', Value: 'berth-prod' },
          ]),
        );
      }
    });

    it('names the launch template and version it was given', async () => {
      const send = jest.fn<Send>().mockResolvedValue(fleetOutput({ Instances: [{ InstanceIds: ['i-01'] }] }));
      const options: Ec2FleetProviderOptions = {
        ec2: ec2With(send),
        launchTemplateName: 'berth-host-prod',
        launchTemplateVersion: '7',
        subnetIds: ['subnet-a'],
      };

      await new Ec2FleetProvider(options).launch(request());

      const [input] = sentInputs<CreateFleetCommandInput>(send, CreateFleetCommand);
      expect(input.LaunchTemplateConfigs?.[0].LaunchTemplateSpecification).toEqual({
        LaunchTemplateName: 'berth-host-prod',
        Version: '7',
      });
    });

    it('sends the same client token when the same launch is retried', async () => {
      const send = jest.fn<Send>().mockResolvedValue(fleetOutput({ Instances: [{ InstanceIds: ['i-01', 'i-02'] }] }));
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      await provider.launch(request({ clientToken: 'tok-A' }));
      await provider.launch(request({ clientToken: 'tok-A' }));
      await provider.launch(request({ clientToken: 'tok-B' }));

      expect(sentInputs<CreateFleetCommandInput>(send, CreateFleetCommand).map((i) => i.ClientToken)).toEqual([
        'tok-A',
        'tok-A',
        'tok-B',
      ]);
    });

    it('asks a retry with the very request of the first try, so EC2 answers with the instances it started then', async () => {
      // Prepare: EC2's idempotency, as documented: a repeated token with the same request returns
      // the first answer; with any other parameter it fails with IdempotentParameterMismatch.
      const answers = new Map<string, { input: string; output: unknown }>();
      let next = 1;
      const send = jest.fn<Send>(async (command) => {
        const input = (command as CreateFleetCommand).input;
        const seen = answers.get(input.ClientToken!);
        if (seen && seen.input !== JSON.stringify(input)) throw ec2Error('IdempotentParameterMismatch');
        if (seen) return seen.output;
        const ids = Array.from({ length: input.TargetCapacitySpecification!.TotalTargetCapacity! }, () => `i-0${next++}`);
        const output = fleetOutput({ Instances: [{ InstanceIds: ids, InstanceType: 'c6i.large', Lifecycle: 'spot' }] });
        answers.set(input.ClientToken!, { input: JSON.stringify(input), output });
        return output;
      });
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      // Act: a first try whose answer was lost, then the retry.
      const first = await provider.launch(request({ clientToken: 'launch-1' }));
      const retry = await provider.launch(request({ clientToken: 'launch-1' }));

      // Assess: the same instances, and no more started.
      expect(retry.map((h) => h.hostId)).toEqual(first.map((h) => h.hostId));
      expect(next).toBe(3);
    });

    it('returns what launched when EC2 falls short, across every Instances entry', async () => {
      // Prepare: 4 asked, 3 started in two zones, the fourth refused.
      const send = jest.fn<Send>().mockResolvedValue(
        fleetOutput({
          Instances: [
            { InstanceIds: ['i-01', 'i-02'], InstanceType: 'c6i.large', Lifecycle: 'spot' },
            { InstanceIds: ['i-03'], InstanceType: 'c6i.large', Lifecycle: 'spot' },
          ],
          Errors: [{ ErrorCode: 'InsufficientInstanceCapacity', ErrorMessage: 'no c6i.large in us-east-1c', Lifecycle: 'spot' }],
        }),
      );
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      // Act
      const hosts = await provider.launch(request({ count: 4 }));

      // Assess
      expect(hosts).toEqual([
        { hostId: 'i-01', instanceId: 'i-01', instanceType: 'c6i.large', market: 'spot' },
        { hostId: 'i-02', instanceId: 'i-02', instanceType: 'c6i.large', market: 'spot' },
        { hostId: 'i-03', instanceId: 'i-03', instanceType: 'c6i.large', market: 'spot' },
      ]);
    });

    it('throws with the EC2 error codes when nothing launched', async () => {
      const send = jest.fn<Send>().mockResolvedValue(
        fleetOutput({
          Instances: [],
          Errors: [
            { ErrorCode: 'InsufficientInstanceCapacity', ErrorMessage: 'We currently do not have sufficient capacity' },
            { ErrorCode: 'UnfulfillableCapacity', ErrorMessage: 'Unable to fulfill capacity' },
            { ErrorCode: 'InsufficientInstanceCapacity', ErrorMessage: 'again' },
          ],
        }),
      );
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      const launched = provider.launch(request({ market: 'on-demand' }));

      await expect(launched).rejects.toBeInstanceOf(FleetLaunchError);
      await expect(launched).rejects.toMatchObject({
        codes: ['InsufficientInstanceCapacity', 'UnfulfillableCapacity'],
        message: expect.stringMatching(/InsufficientInstanceCapacity, UnfulfillableCapacity/),
        request: request({ market: 'on-demand' }),
      });
    });

    it('lets a failed CreateFleet call propagate', async () => {
      const send = jest.fn<Send>().mockRejectedValue(ec2Error('InvalidLaunchTemplateId.NotFound'));
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      await expect(provider.launch(request())).rejects.toMatchObject({ name: 'InvalidLaunchTemplateId.NotFound' });
    });

    it('asks EC2 for nothing when the count is 0', async () => {
      const send = jest.fn<Send>();
      const provider = new Ec2FleetProvider({ ec2: ec2With(send), ...baseOptions });

      expect(await provider.launch(request({ count: 0 }))).toEqual([]);
      expect(send).not.toHaveBeenCalled();
    });

    it.each([
      ['no launch template', { subnetIds: ['subnet-a'] }],
      ['two launch templates', { launchTemplateId: 'lt-1', launchTemplateName: 'berth', subnetIds: ['subnet-a'] }],
      ['no subnet', { launchTemplateId: 'lt-1', subnetIds: [] }],
    ])('refuses to be built with %s', (_, options) => {
      expect(() => new Ec2FleetProvider({ ec2: ec2With(jest.fn<Send>()), ...options } as Ec2FleetProviderOptions)).toThrow();
    });
  });

  describe('terminate', () => {
    /**
     * EC2's TerminateInstances as far as it matters here: it validates every id before it acts,
     * so one malformed or unknown id fails the call and terminates none of the others.
     */
    function fakeEc2(live: Iterable<string>, failFor: Record<string, Error> = {}) {
      const running = new Set(live);
      const terminated: string[] = [];
      const send = jest.fn<Send>(async (command) => {
        if (!(command instanceof TerminateInstancesCommand)) throw new Error('unexpected command');
        const ids = command.input.InstanceIds ?? [];
        const malformed = ids.filter((id) => !/^i-[0-9a-f]+$/.test(id));
        if (malformed.length) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed[0]}"`);
        const unknown = ids.filter((id) => !running.has(id) && !terminated.includes(id));
        if (unknown.length) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
        const failing = ids.find((id) => failFor[id]);
        if (failing) throw failFor[failing];
        for (const id of ids) {
          running.delete(id);
          terminated.push(id);
        }
        return { $metadata: {}, TerminatingInstances: ids.map((InstanceId) => ({ InstanceId })) };
      });
      return { send, running, terminated };
    }

    const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `i-${(from + i).toString(16).padStart(17, '0')}`);

    it('terminates in batches of at most 1000 ids', async () => {
      const all = ids(2500);
      const ec2 = fakeEc2(all);
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      await provider.terminate(all);

      const batches = sentInputs(ec2.send, TerminateInstancesCommand).map((i) => i.InstanceIds ?? []);
      expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
      expect(batches.flat()).toEqual(all);
      expect(ec2.running.size).toBe(0);
    });

    it('counts an unknown id as done and still terminates the rest of its batch', async () => {
      // Prepare: one id in the middle of the first batch is long gone.
      const live = ids(1200);
      const stale = 'i-0deadbeefdeadbeef';
      const ec2 = fakeEc2(live);
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      // Act
      await provider.terminate([...live.slice(0, 500), stale, ...live.slice(500)]);

      // Assess
      expect(ec2.running.size).toBe(0);
      expect(new Set(ec2.terminated)).toEqual(new Set(live));
    });

    it('counts a malformed id as done', async () => {
      const ec2 = fakeEc2(['i-0a', 'i-0b']);
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      await provider.terminate(['i-0a', 'local-host-1', 'i-0b']);

      expect(ec2.running.size).toBe(0);
    });

    it('is idempotent: terminating the same hosts again, or hosts EC2 never knew, succeeds', async () => {
      const ec2 = fakeEc2(['i-0a', 'i-0b']);
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      await provider.terminate(['i-0a', 'i-0b']);
      await provider.terminate(['i-0a', 'i-0b']);
      await provider.terminate(['i-0c']);

      expect(ec2.terminated).toEqual(['i-0a', 'i-0b', 'i-0a', 'i-0b']);
    });

    it('lets any other error propagate', async () => {
      const ec2 = fakeEc2(['i-0a', 'i-0b'], { 'i-0a': ec2Error('UnauthorizedOperation') });
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      await expect(provider.terminate(['i-0a', 'i-0b'])).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
      // Only a gone id sends it one by one: retrying each id after, say, throttling would not help.
      expect(ec2.send).toHaveBeenCalledTimes(1);
      expect(ec2.terminated).toEqual([]);
    });

    it('when going one by one, terminates every other host before it rethrows a real failure', async () => {
      const ec2 = fakeEc2(['i-0a', 'i-0b', 'i-0c'], { 'i-0a': ec2Error('OperationNotPermitted') });
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      await expect(provider.terminate(['i-0a', 'i-0ff', 'i-0b', 'i-0c'])).rejects.toMatchObject({
        name: 'OperationNotPermitted',
      });
      expect(ec2.terminated).toEqual(['i-0b', 'i-0c']);
    });

    it('sends nothing for no ids and each id once', async () => {
      const ec2 = fakeEc2(['i-0a']);
      const provider = new Ec2FleetProvider({ ec2: ec2With(ec2.send), ...baseOptions });

      await provider.terminate([]);
      expect(ec2.send).not.toHaveBeenCalled();
      await provider.terminate(['i-0a', 'i-0a']);
      expect(sentInputs(ec2.send, TerminateInstancesCommand)).toEqual([{ InstanceIds: ['i-0a'] }]);
    });
  });
});

describe('agentUserData', () => {
  const options = {
    endpoint: 'https://berth.example.com/prod',
    region: 'eu-west-1',
    bundleUrl: "https://bucket.s3.amazonaws.com/agent.js?X-Amz-Signature=ab%2Fcd&X-Amz-Expires=3600&q='x'",
    bootstrapToken: 'bt-1234',
    agentVersion: '0.1.0',
  };

  it('asks IMDSv2 for a token, then for the instance id with it', () => {
    const script = agentUserData(options);

    const token = script.indexOf('-X PUT -H \'X-aws-ec2-metadata-token-ttl-seconds: 300\' http://169.254.169.254/latest/api/token');
    const id = script.indexOf('-H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/instance-id');
    expect(token).toBeGreaterThan(-1);
    expect(id).toBeGreaterThan(token);
  });

  it('installs Docker and Node 22 with dnf and runs the agent as a systemd service', () => {
    const script = agentUserData(options);

    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('dnf install -y docker nodejs22 amazon-efs-utils');
    expect(script).toContain('systemctl enable --now docker');
    expect(script).toContain('ExecStart=/usr/bin/node-22 /opt/berth/agent.js');
    expect(script).toContain('EnvironmentFile=/etc/berth/agent.env');
    expect(script).toContain('systemctl enable --now berth-agent.service');
  });

  it('is valid bash', () => {
    expect(() => execFileSync('bash', ['-n'], { input: agentUserData(options) })).not.toThrow();
  });

  it('fetches from S3 with the instance role when given an s3:// URL', () => {
    const script = agentUserData({ ...options, bundleUrl: 's3://berth-artifacts/agent/0.1.0/agent.js' });

    expect(script).toContain("aws s3 cp --only-show-errors 's3://berth-artifacts/agent/0.1.0/agent.js' /opt/berth/agent.js");
  });

  it.each([
    ['an endpoint with a space', { endpoint: 'https://x y' }],
    ['a token with a quote', { bootstrapToken: 'a"b' }],
    ['a token with a $', { bootstrapToken: 'a$b' }],
    ['a bundle URL that is not one', { bundleUrl: 'ftp://x/agent.js' }],
    ['a short checksum', { bundleSha256: 'abc' }],
    ['a region that is not one', { region: 'eu west 1' }],
  ])('refuses %s', (_, bad) => {
    expect(() => agentUserData({ ...options, ...bad })).toThrow();
  });

  describe('on a stubbed host', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'berth-user-data-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /**
     * Runs the script with dnf, systemctl and curl stubbed (curl answers as IMDS and serves the
     * bundle) and its absolute paths moved under `dir`.
     */
    function run(script: string, bundle: string) {
      const root = join(dir, 'root');
      const bin = join(dir, 'bin');
      execFileSync('mkdir', ['-p', bin, join(root, 'etc/systemd/system')]);
      writeFileSync(join(dir, 'bundle.js'), bundle);
      const stub = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${dir}/calls\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      stub('dnf', '');
      stub('systemctl', '');
      stub('curl', [
        'case "$*" in',
        '  *"-X PUT"*api/token*) echo imds-token-1 ;;',
        '  *"X-aws-ec2-metadata-token: imds-token-1"*meta-data/instance-id*) echo i-0feedface ;;',
        '  *"X-aws-ec2-metadata-token: imds-token-1"*meta-data/local-ipv4*) echo 10.0.1.23 ;;',
        `  *"-o "*) cp ${dir}/bundle.js "$(echo "$*" | sed 's/.*-o \\([^ ]*\\).*/\\1/')" ;;`,
        '  *) exit 22 ;;',
        'esac',
      ].join('\n'));
      const moved = script.replace(/\/(etc|opt|var\/lib)\/(berth|systemd)/g, `${root}/$1/$2`);
      execFileSync('bash', ['-c', moved], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'pipe' });
      return { root, calls: readFileSync(join(dir, 'calls'), 'utf8') };
    }

    it('writes the agent environment, root-only, with the instance id and address from IMDS, and installs HAProxy', () => {
      const { root, calls } = run(agentUserData(options), 'console.log("agent")');

      const env = readFileSync(join(root, 'etc/berth/agent.env'), 'utf8');
      expect(env).toBe(
        [
          'BERTH_ENDPOINT=https://berth.example.com/prod',
          'AWS_REGION=eu-west-1',
          'BERTH_HOST_ID=i-0feedface',
          'BERTH_HOST_ADDRESS=10.0.1.23',
          'BERTH_SERVICE_CONNECT_PROXY=true',
          'BERTH_DOCKER_SOCKET=/var/run/docker.sock',
          `BERTH_DATA_DIR=${root}/var/lib/berth`,
          'BERTH_IMDS_ENDPOINT=http://169.254.169.254',
          'BERTH_BOOTSTRAP_TOKEN=bt-1234',
          'BERTH_AGENT_VERSION=0.1.0',
          '',
        ].join('\n'),
      );
      expect(statSync(join(root, 'etc/berth/agent.env')).mode & 0o077).toBe(0);
      expect(readFileSync(join(root, 'opt/berth/agent.js'), 'utf8')).toBe('console.log("agent")');
      expect(readFileSync(join(root, 'etc/systemd/system/berth-agent.service'), 'utf8')).toContain('[Service]');
      expect(calls).toContain(options.bundleUrl);
      expect(calls).toMatch(/^dnf install -y .*\bhaproxy\b/m);
      expect(calls.trim().split('\n').at(-1)).toBe('systemctl enable --now berth-agent.service');
    });

    it('refuses a bundle whose checksum does not match', () => {
      const script = agentUserData({ ...options, bundleSha256: 'a'.repeat(64) });

      expect(() => run(script, 'console.log("tampered")')).toThrow(/did NOT match/);
      expect(existsSync(join(dir, 'root/etc/systemd/system/berth-agent.service'))).toBe(false);
    });
  });
});
