#!/bin/bash
# Runs inside LocalStack once it is ready: finds what `npm run deploy:localstack` needs from the
# account (a VPC and its subnets) and prints it. The stack makes everything else itself.
set -euo pipefail

region="${AWS_DEFAULT_REGION:-us-east-1}"

vpc_id="$(awslocal ec2 describe-vpcs --region "$region" --filters Name=is-default,Values=true \
  --query 'Vpcs[0].VpcId' --output text)"
subnet_ids="$(awslocal ec2 describe-subnets --region "$region" --filters "Name=vpc-id,Values=${vpc_id}" \
  --query 'Subnets[].SubnetId' --output text | tr '\t' ',')"

echo "berth: ready for BERTH_VPC_ID=${vpc_id} BERTH_SUBNET_IDS=${subnet_ids} npm run deploy:localstack"
