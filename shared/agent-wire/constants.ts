/**
 * What the agent and the control plane agree on, on the wire. The agent bundle ships this
 * folder to every host, so nothing here imports server code (lifecycle, store, ECS API,
 * capacity): only the pure domain and the metrics catalog.
 */

/** The agent API: how a host's agent talks to the control plane, in the same JSON 1.1 style. */
export const AGENT_TARGET_PREFIX = 'BerthAgent.';
/** The operator API's target prefix (`POST /operator`). */
export const OPERATOR_TARGET_PREFIX = 'BerthOperator.';

/** How often an agent heartbeats, and the longest a poll is held open (under API Gateway's 29 s). */
export const HEARTBEAT_INTERVAL_SECONDS = 10;
export const MAX_POLL_WAIT_SECONDS = 20;
/**
 * An agent that waits on its SQS wake queue (agent/host-wake.ts) still polls this often: a wake
 * lost on the way is picked up by then. One small read a minute, beside the heartbeat's write.
 */
export const WAKE_FALLBACK_POLL_SECONDS = 60;

/** Timestamps and report sequence numbers are epoch milliseconds: beyond 32 bits. */
export const EPOCH_MS = { min: 0, max: Number.MAX_SAFE_INTEGER } as const;

/** Bounds on what an agent may send: a real identity document is under 1 KiB, a signature under 400 B. */
export const MAX_DOCUMENT_LENGTH = 4096;
export const MAX_SIGNATURE_LENGTH = 2048;

/** The most samples one metrics report may carry. */
export const MAX_REPORTED_METRICS = 1000;
