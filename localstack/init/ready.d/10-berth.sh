#!/bin/bash
# Runs inside LocalStack once it is ready: what Berth's stack expects to exist before a deploy.
set -euo pipefail

region="${AWS_DEFAULT_REGION:-us-east-1}"

# The hosts' launch template (BERTH_LAUNCH_TEMPLATE_ID). LocalStack's EC2 records instances but
# boots none, so no agent ever registers: capacity runs, hosts stay LAUNCHING, then are written off.
if ! awslocal ec2 describe-launch-templates --region "$region" --launch-template-names berth-hosts >/dev/null 2>&1; then
  awslocal ec2 create-launch-template --region "$region" --launch-template-name berth-hosts \
    --launch-template-data '{"InstanceType":"c6i.large","MetadataOptions":{"HttpTokens":"required","HttpPutResponseHopLimit":1}}' >/dev/null
fi
template_id="$(awslocal ec2 describe-launch-templates --region "$region" --launch-template-names berth-hosts \
  --query 'LaunchTemplates[0].LaunchTemplateId' --output text)"
subnet_id="$(awslocal ec2 describe-subnets --region "$region" --query 'Subnets[0].SubnetId' --output text)"

echo "berth: ready for npm run deploy:localstack with BERTH_LAUNCH_TEMPLATE_ID=${template_id} BERTH_SUBNET_IDS=${subnet_id}"
