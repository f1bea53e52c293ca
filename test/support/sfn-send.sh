# Calls the local Step Functions slice from inside a task's busybox container, signed with SigV4
# under the task role's credentials (from the task's credentials endpoint): as an AWS SDK in the
# task would. Usage: sfn_send OPERATION BODY (needs AWS_ENDPOINT_URL and AWS_CONTAINER_CREDENTIALS_FULL_URI).
hex2bin() { printf "$(echo "$1" | sed 's/../\\x&/g')"; }
sha_hex() { sha256sum | cut -d' ' -f1; }
str_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# HMAC-SHA256 of $2 (text) under the key $1 (hex, at most 64 bytes), in hex.
hmac() {
  k=$1
  while [ ${#k} -lt 128 ]; do k="${k}0"; done
  ip=''; op=''
  for b in $(echo "$k" | sed 's/../& /g'); do
    ip="$ip$(printf '%02x' $((0x$b ^ 0x36)))"
    op="$op$(printf '%02x' $((0x$b ^ 0x5c)))"
  done
  inner=$({ hex2bin "$ip"; printf '%s' "$2"; } | sha_hex)
  { hex2bin "$op"; hex2bin "$inner"; } | sha_hex
}
sigv4_signature() { # SECRET DATESTAMP REGION SERVICE STRING_TO_SIGN
  k=$(hmac "$(str_hex "AWS4$1")" "$2"); k=$(hmac "$k" "$3"); k=$(hmac "$k" "$4"); k=$(hmac "$k" aws4_request)
  hmac "$k" "$5"
}
sfn_send() {
  creds=$(wget -q -O - --header "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")
  ak=$(echo "$creds" | sed 's/.*"AccessKeyId":"\([^"]*\)".*/\1/')
  sk=$(echo "$creds" | sed 's/.*"SecretAccessKey":"\([^"]*\)".*/\1/')
  tk=$(echo "$creds" | sed 's/.*"Token":"\([^"]*\)".*/\1/')
  host=${AWS_ENDPOINT_URL#http://}; host=${host%/}
  amz=$(date -u +%Y%m%dT%H%M%SZ); day=${amz%%T*}; region=${AWS_REGION:-us-east-1}
  target="AWSStepFunctions.$1"
  signed='content-type;host;x-amz-date;x-amz-security-token;x-amz-target'
  canonical="POST
/

content-type:application/x-amz-json-1.0
host:$host
x-amz-date:$amz
x-amz-security-token:$tk
x-amz-target:$target

$signed
$(printf '%s' "$2" | sha_hex)"
  scope="$day/$region/states/aws4_request"
  sts="AWS4-HMAC-SHA256
$amz
$scope
$(printf '%s' "$canonical" | sha_hex)"
  sig=$(sigv4_signature "$sk" "$day" "$region" states "$sts")
  wget -q -O - --header 'Content-Type: application/x-amz-json-1.0' --header "X-Amz-Target: $target" \
    --header "X-Amz-Date: $amz" --header "X-Amz-Security-Token: $tk" \
    --header "Authorization: AWS4-HMAC-SHA256 Credential=$ak/$scope, SignedHeaders=$signed, Signature=$sig" \
    --post-data "$2" "$AWS_ENDPOINT_URL/"
}
