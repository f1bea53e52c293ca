import type { Berth } from '../context';
import type { Json } from '../domain/fields';
import type { AccessKeyRecord } from '../store';

/** Who made the call, as the signature proved it (absent where the API takes unsigned calls). */
export interface Caller {
  principal?: AccessKeyRecord;
}

/** One API operation: a validated request in, the response body out. */
export type Operation = (b: Berth, body: Json, caller: Caller) => Promise<object>;
