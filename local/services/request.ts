// The readers moved to the protocol layer, where Application Auto Scaling (served on AWS too) uses them.
export * from '../../shared/aws-protocol/request';
