import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for AWS's instance-identity signer: an RSA key and a self-signed certificate made
 * with the openssl CLI (Node 20 cannot create X.509 certificates), trusted by the tests in place
 * of AWS's certificate. Documents are signed exactly as IMDS's `signature` is: RSA PKCS#1 v1.5
 * over SHA-256 of the document's bytes, base64.
 */
export interface TestIdentitySigner {
  certificatePem: string;
  sign(document: string): string;
}

export function createTestIdentitySigner(): TestIdentitySigner {
  const dir = mkdtempSync(join(tmpdir(), 'berth-iid-ca-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth-test-ec2-identity',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    return {
      certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      sign: (document) => sign('sha256', Buffer.from(document, 'utf8'), key).toString('base64'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DocumentFields {
  instanceId: string;
  accountId?: string;
  region?: string;
  pendingTime?: number;
  instanceType?: string;
}

/** An instance identity document laid out as IMDS serves it (pretty JSON, `" : "`). */
export function identityDocument(f: DocumentFields): string {
  const region = f.region ?? 'us-east-1';
  const fields = {
    accountId: f.accountId ?? '000000000000',
    architecture: 'x86_64',
    availabilityZone: `${region}a`,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: 'ami-0c7217cdde317cfec',
    instanceId: f.instanceId,
    instanceType: f.instanceType ?? 'c6i.large',
    kernelId: null,
    pendingTime: new Date(f.pendingTime ?? Date.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    privateIp: '10.0.1.23',
    ramdiskId: null,
    region,
    version: '2017-09-30',
  };
  return JSON.stringify(fields, null, 2).replace(/": /g, '" : ');
}
