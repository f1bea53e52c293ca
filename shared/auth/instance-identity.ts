import { type KeyObject, X509Certificate, verify } from 'node:crypto';
import { isObject } from '../domain/fields';
import { AWS_INSTANCE_IDENTITY_CERTIFICATES } from './aws-identity-certificates';
import { InstanceIdentityRefusedException } from './errors';
import { InvalidParameterException } from '../domain/errors';

/**
 * What an agent on EC2 presents at registration: the instance identity document exactly as IMDS
 * served it, and IMDS's base64 RSA-SHA256 signature of those bytes
 * (`/latest/dynamic/instance-identity/signature`).
 */
export interface InstanceIdentityProof {
  document: string;
  signature: string;
}

/** The members of the document Berth relies on, once its signature has verified. */
export interface InstanceIdentityDocument {
  instanceId: string;
  accountId: string;
  region: string;
  instanceType?: string;
  /** When the instance last entered `pending`, epoch milliseconds. */
  pendingTime: number;
}

/** Which certificates may sign a Region's documents, and how old a document may be. */
export interface InstanceIdentityConfig {
  /** PEM certificates by Region; several per Region let a rotation overlap. */
  certificates: Readonly<Record<string, string | readonly string[]>>;
  /**
   * A document older than this (by its pendingTime) is refused. The capacity manager writes off
   * a launch that has not registered within its boot timeout (600 s) anyway; this bounds how
   * long a leaked document could matter even if that write-off were late.
   */
  maxDocumentAgeSeconds: number;
}

export const DEFAULT_MAX_DOCUMENT_AGE_SECONDS = 1800;

/** A pendingTime this far ahead of our clock is still believed: clocks drift. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export const DEFAULT_INSTANCE_IDENTITY: InstanceIdentityConfig = {
  certificates: AWS_INSTANCE_IDENTITY_CERTIFICATES,
  maxDocumentAgeSeconds: DEFAULT_MAX_DOCUMENT_AGE_SECONDS,
};

/** Parsed once per certificate text: a registration verifies against a cached public key. */
const keys = new Map<string, KeyObject>();
function publicKeyOf(pem: string): KeyObject {
  let key = keys.get(pem);
  if (!key) {
    // AWS's certificates are pinned trust anchors, not a chain to validate: several have long
    // expired while AWS still signs with their key, so their dates are deliberately not checked.
    key = new X509Certificate(pem).publicKey;
    keys.set(pem, key);
  }
  return key;
}

/**
 * Certificates from BERTH_IMDS_CERTIFICATES, a JSON object of Region → PEM (or a list of PEMs),
 * laid over AWS's: a Region named there trusts only what it names.
 */
export function instanceIdentityFromEnvironment(value: string | undefined): InstanceIdentityConfig {
  if (!value) return DEFAULT_INSTANCE_IDENTITY;
  const parsed: unknown = JSON.parse(value);
  if (!isObject(parsed)) throw new Error('BERTH_IMDS_CERTIFICATES must be a JSON object of Region to PEM certificate(s)');
  for (const [region, pems] of Object.entries(parsed)) {
    for (const pem of [pems].flat()) {
      if (typeof pem !== 'string') throw new Error(`BERTH_IMDS_CERTIFICATES: ${region} must name PEM strings`);
      publicKeyOf(pem); // fail at start, not at the first registration
    }
  }
  return { ...DEFAULT_INSTANCE_IDENTITY, certificates: { ...AWS_INSTANCE_IDENTITY_CERTIFICATES, ...(parsed as Record<string, string | string[]>) } };
}

function readDocument(text: string): InstanceIdentityDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidParameterException("Invalid parameter 'instanceIdentity.document': not a JSON document.");
  }
  const field = (name: string, pattern: RegExp): string => {
    const v = isObject(json) ? json[name] : undefined;
    if (typeof v !== 'string' || !pattern.test(v)) {
      throw new InvalidParameterException(`Invalid parameter 'instanceIdentity.document': no valid ${name}.`);
    }
    return v;
  };
  const pendingTime = Date.parse(field('pendingTime', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/));
  const instanceType = isObject(json) && typeof json.instanceType === 'string' ? json.instanceType : undefined;
  return {
    instanceId: field('instanceId', /^i-[0-9a-f]{8,17}$/),
    accountId: field('accountId', /^\d{12}$/),
    region: field('region', /^[a-z]{2}(-[a-z]+)+-\d+$/),
    instanceType,
    pendingTime,
  };
}

/**
 * Verifies the document's signature against AWS's certificate for the Region the document names,
 * then reads it. Only the signed bytes are trusted: the Region picks the certificate, and a
 * document that claims another Region must still verify under that Region's key.
 */
export function verifyInstanceIdentity(proof: InstanceIdentityProof, config: InstanceIdentityConfig): InstanceIdentityDocument {
  const document = readDocument(proof.document);
  const signature = Buffer.from(proof.signature.replace(/\s+/g, ''), 'base64');
  const pems = [config.certificates[document.region] ?? []].flat();
  if (pems.length === 0) {
    throw new InstanceIdentityRefusedException(`No AWS certificate is trusted for Region ${document.region}.`);
  }
  const bytes = Buffer.from(proof.document, 'utf8');
  if (!pems.some((pem) => verify('sha256', bytes, publicKeyOf(pem), signature))) {
    throw new InstanceIdentityRefusedException('The instance identity document does not match its signature.');
  }
  return document;
}

/** What the signed document must say for this Berth: its account, its Region, recently launched. */
export function checkInstanceIdentity(
  document: InstanceIdentityDocument,
  expected: { accountId: string; region: string; hostId: string; now: number; maxDocumentAgeSeconds: number },
): void {
  if (document.accountId !== expected.accountId) {
    throw new InstanceIdentityRefusedException(`Instance ${document.instanceId} belongs to another AWS account.`);
  }
  if (document.region !== expected.region) {
    throw new InstanceIdentityRefusedException(`Instance ${document.instanceId} runs in ${document.region}, not ${expected.region}.`);
  }
  if (document.instanceId !== expected.hostId) {
    throw new InstanceIdentityRefusedException(`The instance identity document is instance ${document.instanceId}'s, not ${expected.hostId}'s.`);
  }
  const ageMs = expected.now - document.pendingTime;
  if (ageMs > expected.maxDocumentAgeSeconds * 1000 || ageMs < -CLOCK_SKEW_MS) {
    throw new InstanceIdentityRefusedException(`The instance identity document of ${document.instanceId} is stale: pending since ${new Date(document.pendingTime).toISOString()}.`);
  }
}
