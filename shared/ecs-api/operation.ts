import type { Berth } from '../context';
import type { Json } from '../domain/fields';

/** One ECS operation: a validated request in, the response body out. */
export type Operation = (b: Berth, body: Json) => Promise<object>;
