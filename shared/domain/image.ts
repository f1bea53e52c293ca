import { ClientException } from './errors';
import { type Json, optObject, reqString } from './fields';

/**
 * A container's image reference and its registry credentials, as RegisterTaskDefinition checks
 * them; and the parts of a reference the agent needs (its registry, its repository). Pure.
 */

/** ECS's length limit for `image`. */
export const MAX_IMAGE_LENGTH = 255;

/**
 * ECS allows letters, numbers, hyphens, underscores, colons, periods, forward slashes and number
 * signs, and `@` for a reference by digest (`repository@sha256:...`).
 */
const IMAGE_CHARACTERS = /^[A-Za-z0-9\-_:./#@]+$/;

/** A Secrets Manager secret's name, or its ARN (ECS takes either for credentialsParameter). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const SECRET_ARN = /^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]{1,512}$/;

export interface RepositoryCredentials {
  /** The secret (ARN or name) whose SecretString is JSON `{"username": ..., "password": ...}`. */
  credentialsParameter: string;
}

/** `containerDefinitions[i].image`, refused with ECS's messages. */
export function readImage(c: Json, path: string): string {
  const image = reqString(c, 'image', `${path}.image`);
  if (image.trim() === '') throw new ClientException('Container.image should not be blank.');
  if (image.length > MAX_IMAGE_LENGTH) throw new ClientException(`Container.image should be ${MAX_IMAGE_LENGTH} characters or less.`);
  if (!IMAGE_CHARACTERS.test(image)) throw new ClientException('Container.image contains invalid characters.');
  return image;
}

/** `containerDefinitions[i].repositoryCredentials`: a secret named by ARN or name. */
export function readRepositoryCredentials(c: Json, path: string): RepositoryCredentials | undefined {
  const field = `${path}.repositoryCredentials`;
  const rc = optObject(c, 'repositoryCredentials', field);
  if (!rc) return undefined;
  const credentialsParameter = reqString(rc, 'credentialsParameter', `${field}.credentialsParameter`, 2048);
  if (!SECRET_ARN.test(credentialsParameter) && !SECRET_NAME.test(credentialsParameter)) {
    throw new ClientException(`Invalid parameter '${field}.credentialsParameter': expected the ARN or name of a Secrets Manager secret.`);
  }
  return { credentialsParameter };
}

export interface ImageReference {
  /** Where it is pulled from (`127.0.0.1:5000`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`), or undefined for Docker Hub. */
  registry?: string;
  /** The repository with its registry, without tag or digest: what RepoDigests entries begin with. */
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits a reference as Docker does: the first path component is a registry when it has a dot
 * or a colon or is `localhost`.
 */
export function parseImageReference(image: string): ImageReference {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const named = at >= 0 ? image.slice(0, at) : image;
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tag = colon > slash ? named.slice(colon + 1) : undefined;
  const repository = colon > slash ? named.slice(0, colon) : named;
  const first = repository.split('/')[0];
  const registry = repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
  return { registry, repository, tag, digest };
}

/** podman's namespace for images built or imported on the host itself, which no registry serves. */
export const isLocalOnly = (image: string) => parseImageReference(image).registry === 'localhost';

/** An ECR private registry host: its account (registry id) and Region. */
export function ecrRegistry(registry: string | undefined): { registryId: string; region: string } | undefined {
  const m = registry && /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(registry);
  return m ? { registryId: m[1], region: m[2] } : undefined;
}
