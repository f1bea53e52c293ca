import { X509Certificate } from 'node:crypto';
import { AWS_INSTANCE_IDENTITY_CERTIFICATES } from '../../shared/auth/aws-identity-certificates';
import {
  DEFAULT_INSTANCE_IDENTITY,
  type InstanceIdentityConfig,
  checkInstanceIdentity,
  instanceIdentityFromEnvironment,
  verifyInstanceIdentity,
} from '../../shared/auth/instance-identity';
import { caught } from '../support/caught';
import { createTestIdentitySigner, identityDocument } from '../support/identity-ca';

/**
 * A document and signature that a real EC2 instance in us-east-1 served from IMDS in 2024 (the
 * test vector published with the open-source Go package rspamd/awsregioncertificates). It proves
 * that the certificates embedded here are AWS's: no test key could have signed it.
 */
const AWS_DOCUMENT = [
  '{',
  '  "accountId" : "975050371289",',
  '  "architecture" : "x86_64",',
  '  "availabilityZone" : "us-east-1b",',
  '  "billingProducts" : null,',
  '  "devpayProductCodes" : null,',
  '  "marketplaceProductCodes" : null,',
  '  "imageId" : "ami-0c7217cdde317cfec",',
  '  "instanceId" : "i-0b02d936754a6d637",',
  '  "instanceType" : "t2.micro",',
  '  "kernelId" : null,',
  '  "pendingTime" : "2024-02-15T14:12:11Z",',
  '  "privateIp" : "172.31.17.154",',
  '  "ramdiskId" : null,',
  '  "region" : "us-east-1",',
  '  "version" : "2017-09-30"',
  '}',
].join('\n');
const AWS_SIGNATURE =
  'OQTgfPTsc7hXR+3OWP7dk7qY1S1RNGvVvoVPzn/WogAqJpGBtei2pSx3OfZ7F1PDMpClQswDcF9N\n' +
  'iZmPD09xyJSrSRwYvx8SFoBWzUXS1hd9T1ZxpqWtloe/k//YmK7h9f7rjuT3/CxDDCWrbsKp8F0N\n' +
  'ck+YPKGzD+dtxEm6g1g=';

describe('Instance identity', () => {
  describe("AWS's embedded certificates", () => {
    it.each(Object.keys(AWS_INSTANCE_IDENTITY_CERTIFICATES))('holds an RSA certificate for %s', (region) => {
      const cert = new X509Certificate(AWS_INSTANCE_IDENTITY_CERTIFICATES[region as keyof typeof AWS_INSTANCE_IDENTITY_CERTIFICATES]);
      expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    });

    it('verifies a document that a real EC2 instance served, and reads it', () => {
      // Act
      const document = verifyInstanceIdentity({ document: AWS_DOCUMENT, signature: AWS_SIGNATURE }, DEFAULT_INSTANCE_IDENTITY);

      // Assess
      expect(document).toEqual({
        instanceId: 'i-0b02d936754a6d637',
        accountId: '975050371289',
        region: 'us-east-1',
        instanceType: 't2.micro',
        pendingTime: Date.parse('2024-02-15T14:12:11Z'),
      });
    });

    it.each([
      ['another instance id', AWS_DOCUMENT.replace('i-0b02d936754a6d637', 'i-0b02d936754a6d638')],
      ['another account', AWS_DOCUMENT.replace('975050371289', '123456789012')],
      ['a later pendingTime', AWS_DOCUMENT.replace('2024-02-15T14:12:11Z', '2026-11-27T19:00:00Z')],
      ['a trailing newline', `${AWS_DOCUMENT}\n`],
    ])('refuses the real document edited to claim %s', (_what, tampered) => {
      const e = caught(() => verifyInstanceIdentity({ document: tampered, signature: AWS_SIGNATURE }, DEFAULT_INSTANCE_IDENTITY));
      expect(e).toMatchObject({ name: 'AccessDeniedException', statusCode: 400 });
    });

    it("refuses it under another Region's certificate", () => {
      // Prepare: us-east-1 trusts only Cape Town's certificate, another key.
      const config: InstanceIdentityConfig = { ...DEFAULT_INSTANCE_IDENTITY, certificates: { 'us-east-1': AWS_INSTANCE_IDENTITY_CERTIFICATES['af-south-1'] } };

      // Act + assess
      expect(caught(() => verifyInstanceIdentity({ document: AWS_DOCUMENT, signature: AWS_SIGNATURE }, config))).toMatchObject({ name: 'AccessDeniedException' });
    });

    it('refuses a Region it holds no certificate for', () => {
      const signer = createTestIdentitySigner();
      const doc = identityDocument({ instanceId: 'i-0123456789abcdef0', region: 'xx-nowhere-1' });
      const e = caught(() => verifyInstanceIdentity({ document: doc, signature: signer.sign(doc) }, DEFAULT_INSTANCE_IDENTITY));
      expect(e).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('xx-nowhere-1') });
    });
  });

  describe('verifyInstanceIdentity', () => {
    const signer = createTestIdentitySigner();
    const other = createTestIdentitySigner();
    const config: InstanceIdentityConfig = { certificates: { 'us-east-1': signer.certificatePem }, maxDocumentAgeSeconds: 600 };
    const doc = identityDocument({ instanceId: 'i-0123456789abcdef0' });

    it('accepts a document signed by a trusted certificate', () => {
      expect(verifyInstanceIdentity({ document: doc, signature: signer.sign(doc) }, config).instanceId).toBe('i-0123456789abcdef0');
    });

    it('accepts any of several certificates for a Region, so a rotation can overlap', () => {
      const both: InstanceIdentityConfig = { ...config, certificates: { 'us-east-1': [other.certificatePem, signer.certificatePem] } };
      expect(verifyInstanceIdentity({ document: doc, signature: signer.sign(doc) }, both).instanceId).toBe('i-0123456789abcdef0');
    });

    it.each([
      ['signed by an untrusted key', () => other.sign(doc)],
      ['with an empty signature', () => ''],
      ['with random bytes for a signature', () => Buffer.alloc(256, 7).toString('base64')],
      ["with another document's signature", () => signer.sign(identityDocument({ instanceId: 'i-0fffffffffffffff0' }))],
    ])('refuses a document %s', (_what, signature) => {
      expect(caught(() => verifyInstanceIdentity({ document: doc, signature: signature() }, config))).toMatchObject({ name: 'AccessDeniedException' });
    });

    it.each([
      ['text that is not JSON', 'hello'],
      ['a JSON list', '[]'],
      ['a document without an instanceId', doc.replace(/"instanceId" : "[^"]+",/, '')],
      ['a document with a malformed instanceId', doc.replace('i-0123456789abcdef0', 'host-1')],
      ['a document with a malformed pendingTime', doc.replace(/"pendingTime" : "[^"]+"/, '"pendingTime" : "yesterday"')],
    ])('refuses %s as a bad parameter', (_what, text) => {
      expect(caught(() => verifyInstanceIdentity({ document: text, signature: signer.sign(text) }, config))).toMatchObject({ name: 'InvalidParameterException', statusCode: 400 });
    });
  });

  describe('checkInstanceIdentity', () => {
    const now = Date.parse('2026-11-27T19:00:00Z');
    const good = { instanceId: 'i-0123456789abcdef0', accountId: '000000000000', region: 'us-east-1', pendingTime: now - 60_000 };
    const expected = { accountId: '000000000000', region: 'us-east-1', hostId: 'i-0123456789abcdef0', now, maxDocumentAgeSeconds: 1800 };

    it('accepts a recent document of this account, Region and host', () => {
      expect(() => checkInstanceIdentity(good, expected)).not.toThrow();
    });

    it.each([
      ['another account', { ...good, accountId: '111111111111' }, /another AWS account/],
      ['another Region', { ...good, region: 'eu-west-1' }, /runs in eu-west-1/],
      ['another instance than the host it registers', { ...good, instanceId: 'i-0fffffffffffffff0' }, /not i-0123456789abcdef0/],
      ['a stale pendingTime', { ...good, pendingTime: now - 1801_000 }, /stale/],
      ['a pendingTime far in the future', { ...good, pendingTime: now + 3600_000 }, /stale/],
    ])('refuses %s', (_what, document, message) => {
      expect(caught(() => checkInstanceIdentity(document, expected))).toMatchObject({ name: 'AccessDeniedException', message: expect.stringMatching(message) });
    });
  });

  describe('instanceIdentityFromEnvironment', () => {
    it("uses AWS's certificates when BERTH_IMDS_CERTIFICATES is unset", () => {
      expect(instanceIdentityFromEnvironment(undefined)).toBe(DEFAULT_INSTANCE_IDENTITY);
    });

    it("replaces a Region's certificates and keeps the others", () => {
      // Prepare
      const signer = createTestIdentitySigner();

      // Act
      const config = instanceIdentityFromEnvironment(JSON.stringify({ 'us-east-1': [signer.certificatePem] }));

      // Assess: the test key now signs for us-east-1, AWS's no longer does; eu-west-1 is AWS's.
      const doc = identityDocument({ instanceId: 'i-0123456789abcdef0' });
      expect(verifyInstanceIdentity({ document: doc, signature: signer.sign(doc) }, config).instanceId).toBe('i-0123456789abcdef0');
      expect(caught(() => verifyInstanceIdentity({ document: AWS_DOCUMENT, signature: AWS_SIGNATURE }, config))).toMatchObject({ name: 'AccessDeniedException' });
      expect(config.certificates['eu-west-1']).toBe(AWS_INSTANCE_IDENTITY_CERTIFICATES['eu-west-1']);
    });

    it.each([['not JSON', '{'], ['a list', '[]'], ['a number for a Region', '{"us-east-1": 1}'], ['a PEM that is not a certificate', '{"us-east-1": "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"}']])(
      'refuses %s at start', (_what, value) => {
        expect(() => instanceIdentityFromEnvironment(value)).toThrow();
      },
    );
  });
});
