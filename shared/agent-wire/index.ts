export { AGENT_TARGET_PREFIX, EPOCH_MS, HEARTBEAT_INTERVAL_SECONDS, MAX_DOCUMENT_LENGTH, MAX_POLL_WAIT_SECONDS, MAX_REPORTED_METRICS, MAX_SIGNATURE_LENGTH } from './constants';
export {
  AGENT_REQUESTS, type AgentOperation, type AgentRequest, type ContainerReport, type MetricSample, type PollAssignmentsRequest,
  type RegisterHostRequest, type ReportMetricsRequest, type ReportTaskStateRequest,
} from './requests';
export type {
  Assignment, HostCredentials, KnownAssignments, ServiceConnectRoute, PollAssignmentsResponse, RegisterHostResponse, ReportMetricsResponse, ReportTaskStateResponse,
} from './responses';
