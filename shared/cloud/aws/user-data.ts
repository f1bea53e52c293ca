import { AWS_REGION_PATTERN } from '../../config/variables';

export interface AgentUserDataOptions {
  /** The control plane's URL, the agent's BERTH_ENDPOINT. */
  endpoint: string;
  /**
   * The control plane's region, the agent's AWS_REGION: its calls are signed for it, as the
   * stack refuses a signature scoped to another region (and its AWS clients call that region).
   */
  region: string;
  /**
   * Where the agent bundle (one JavaScript file, agent/main.ts bundled) is fetched from: an
   * `s3://bucket/key` read with the instance role, or an http(s) URL such as a presigned one.
   * User data lives as long as its launch template, so a presigned URL must outlive every launch.
   */
  bundleUrl: string;
  /** Hex SHA-256 of the bundle: the host refuses any other file. */
  bundleSha256?: string;
  /** Given to the agent as BERTH_BOOTSTRAP_TOKEN, in a root-only file. */
  bootstrapToken?: string;
  /** Given to the agent as BERTH_AGENT_VERSION, to report at registration. */
  agentVersion?: string;
}

export const AGENT_SERVICE = 'berth-agent.service';
export const DOCKER_SOCKET = '/var/run/docker.sock';

const IMDS_ENDPOINT = 'http://169.254.169.254';
const IMDS = `${IMDS_ENDPOINT}/latest`;

/** Single-quotes a value for the shell: safe whatever it holds. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A value systemd's EnvironmentFile reads back verbatim: printable ASCII without spaces, quotes,
 * backslashes or `$`, which that parser would unquote, unescape or expand.
 */
function envLine(name: string, value: string): string {
  if (!/^[\x21-\x7e]+$/.test(value) || /["'\\$`]/.test(value)) {
    throw new Error(`${name} must be printable ASCII without spaces, quotes, backslashes or $`);
  }
  return shellQuote(`${name}=${value}`);
}

function fetchBundle(url: string, to: string): string {
  if (/^s3:\/\/[^/]+\/.+/.test(url)) return `aws s3 cp --only-show-errors ${shellQuote(url)} ${to}`;
  if (/^https?:\/\/\S+$/.test(url)) return `curl -fsSL --retry 5 --retry-connrefused -o ${to} ${shellQuote(url)}`;
  throw new Error(`bundleUrl must be an s3:// or http(s):// URL, not ${url}`);
}

/**
 * The user data of a Berth host: a cloud-init shell script for Amazon Linux 2023 that installs
 * Docker, Node 22, the EFS mount helper and HAProxy (Node 20 reached its end of life in April 2026), fetches the agent bundle and runs it as a systemd service. It returns plain
 * text; base64 is applied by whoever puts it in the launch template.
 */
export function agentUserData(options: AgentUserDataOptions): string {
  const { endpoint, region, bundleUrl, bundleSha256, bootstrapToken, agentVersion } = options;
  if (!AWS_REGION_PATTERN.test(region)) throw new Error(`region must be an AWS Region such as us-east-1, not ${region}`);
  if (bundleSha256 !== undefined && !/^[0-9a-f]{64}$/i.test(bundleSha256)) {
    throw new Error('bundleSha256 must be 64 hex digits');
  }
  const bundle = '/opt/berth/agent.js';
  const env = [
    envLine('BERTH_ENDPOINT', endpoint),
    envLine('AWS_REGION', region),
    '"BERTH_HOST_ID=$instance_id"',
    // Other hosts' Service Connect proxies reach the ports this one publishes at its private address.
    '"BERTH_HOST_ADDRESS=$local_ipv4"',
    envLine('BERTH_SERVICE_CONNECT_PROXY', 'true'),
    envLine('BERTH_DOCKER_SOCKET', DOCKER_SOCKET),
    envLine('BERTH_DATA_DIR', '/var/lib/berth'),
    // Without a bootstrap token, the agent registers with the instance's signed identity document.
    envLine('BERTH_IMDS_ENDPOINT', IMDS_ENDPOINT),
    ...(bootstrapToken ? [envLine('BERTH_BOOTSTRAP_TOKEN', bootstrapToken)] : []),
    ...(agentVersion ? [envLine('BERTH_AGENT_VERSION', agentVersion)] : []),
  ];

  return `#!/bin/bash
# Berth host bootstrap. cloud-init runs it once per instance, as root, on Amazon Linux 2023.
set -euo pipefail

# amazon-efs-utils: the mount helper (TLS, access points) through which the agent mounts tasks' EFS volumes.
# haproxy: the host's Service Connect proxy, which the agent starts and feeds (not the distribution's unit).
dnf install -y docker nodejs22 amazon-efs-utils haproxy
systemctl enable --now docker

# BERTH_HOST_ID is only a claim: the agent proves which instance it runs on at registration,
# with the signed instance identity document. IMDSv2 wants a session token first. The launch
# template should require tokens with a hop limit of 1, so containers cannot reach IMDS.
imds_token=$(curl -fsS --retry 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' ${IMDS}/api/token)
instance_id=$(curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: $imds_token" ${IMDS}/meta-data/instance-id)
local_ipv4=$(curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: $imds_token" ${IMDS}/meta-data/local-ipv4)

install -d -m 0755 /opt/berth /var/lib/berth
${fetchBundle(bundleUrl, bundle)}
${bundleSha256 ? `echo '${bundleSha256.toLowerCase()}  ${bundle}' | sha256sum -c -\n` : ''}
# Root-only: the bootstrap token must not sit in a world-readable unit file.
install -d -m 0700 /etc/berth
(umask 077 && printf '%s\\n' \\
  ${env.join(' \\\n  ')} \\
  > /etc/berth/agent.env)

cat > /etc/systemd/system/${AGENT_SERVICE} <<'UNIT'
[Unit]
Description=Berth agent
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=/etc/berth/agent.env
ExecStart=/usr/bin/node-22 ${bundle}
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now ${AGENT_SERVICE}
`;
}
