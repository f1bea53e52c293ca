// The AWS SDK warns once per process that its releases after January 2027 need Node 22. We run
// Node 20 on purpose (see README); the warning only buries the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
