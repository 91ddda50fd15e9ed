#!/bin/bash
# receiptlake training instance (stacks/training_stack.py fills in the values below).
#
# Boots a spot instance of the training group, installs the trainer's dependencies from
# the environment's CodeArtifact PyPI mirror (no internet: private subnets with VPC
# endpoints), runs `python -m ml train`, ships its output to CloudWatch Logs, and:
#   - on a spot interruption notice, sends SIGTERM to the trainer, which checkpoints to the
#     models bucket and exits 143; the group launches a replacement that resumes;
#   - when the trainer ends for any other reason, sets the group's desired capacity to 0,
#     so nothing bills until the next scheduled run.
set -euo pipefail

ENVIRONMENT=@@ENVIRONMENT@@
REGION=@@REGION@@
LAKE_BUCKET=@@LAKE_BUCKET@@
MODELS_BUCKET=@@MODELS_BUCKET@@
TABLE=@@TABLE@@
ASSET_URL=@@ASSET_URL@@
GROUP_NAME=@@GROUP_NAME@@
LOG_GROUP=@@LOG_GROUP@@
CODEARTIFACT_DOMAIN=@@CODEARTIFACT_DOMAIN@@
CODEARTIFACT_OWNER=@@CODEARTIFACT_OWNER@@
CODEARTIFACT_REPOSITORY=@@CODEARTIFACT_REPOSITORY@@
METRICS_NAMESPACE=@@METRICS_NAMESPACE@@
METRICS_DIMENSION=@@METRICS_DIMENSION@@
RUN_SUCCEEDED_METRIC=@@RUN_SUCCEEDED_METRIC@@
MAX_RUNTIME_SECONDS=@@MAX_RUNTIME_SECONDS@@

APP_DIR=/opt/receiptlake
LOG_FILE=/var/log/receiptlake-training.log
INTERRUPTED=/run/receiptlake-spot-interrupted
IMDS=http://169.254.169.254/latest
AGENT_CONFIG=/opt/aws/amazon-cloudwatch-agent/etc/receiptlake-training.json
export AWS_DEFAULT_REGION="$REGION"

# Everything below also goes to the file the CloudWatch agent ships (and, through
# cloud-init, to the console output, which is all there is if the agent never starts).
touch "$LOG_FILE"
exec > >(tee -a "$LOG_FILE") 2>&1

log() { echo "$(date -u +%FT%TZ) receiptlake-training: $*"; }

# IMDSv2 only (the launch template requires tokens): a session token for every read.
imds_token() {
  curl -sf -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300"
}
imds() {
  curl -sf -H "X-aws-ec2-metadata-token: $(imds_token)" "$IMDS/meta-data/$1"
}

report_failure() {
  # The trainer reports its own failures; this covers the ones it cannot: setup that
  # failed, a crash, the time limit. Best effort: a failure to report must not keep the
  # instance (and its bill) alive.
  aws cloudwatch put-metric-data --namespace "$METRICS_NAMESPACE" --metric-name "$RUN_SUCCEEDED_METRIC" \
    --value 0 --unit None --dimensions "$METRICS_DIMENSION=$ENVIRONMENT" || log "could not report the failure"
}

scale_to_zero() {
  sleep 15 # the agent flushes every 5 s: the last lines reach the log group first
  log "setting the desired capacity of $GROUP_NAME to 0"
  aws autoscaling set-desired-capacity --auto-scaling-group-name "$GROUP_NAME" --desired-capacity 0
}

setup_failed() {
  log "setup failed at line $1: no training this time"
  trap - ERR
  report_failure
  scale_to_zero
  exit 1
}
trap 'setup_failed $LINENO' ERR

log "instance $(imds instance-id) ($(imds instance-type), $(imds placement/availability-zone)) starts"

# ---- logs first, so the rest of the setup is visible in CloudWatch Logs -----------------
dnf install -y -q amazon-cloudwatch-agent python3.11 python3.11-pip
cat >"$AGENT_CONFIG" <<JSON
{
  "agent": {"run_as_user": "root"},
  "logs": {
    "force_flush_interval": 5,
    "logs_collected": {"files": {"collect_list": [
      {"file_path": "$LOG_FILE", "log_group_name": "$LOG_GROUP", "log_stream_name": "{instance_id}"}
    ]}}
  }
}
JSON
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$AGENT_CONFIG"

# ---- the trainer and its dependencies ----------------------------------------------------
mkdir -p "$APP_DIR"
aws s3 cp --only-show-errors "$ASSET_URL" /tmp/receiptlake-ml.zip
python3.11 -m zipfile -e /tmp/receiptlake-ml.zip "$APP_DIR"
if [[ ! -f "$APP_DIR/ml/requirements.txt" ]]; then
  log "the ml asset has no ml/requirements.txt"
  false
fi
python3.11 -m venv "$APP_DIR/.venv"
token=$(aws codeartifact get-authorization-token --domain "$CODEARTIFACT_DOMAIN" \
  --domain-owner "$CODEARTIFACT_OWNER" --query authorizationToken --output text)
endpoint=$(aws codeartifact get-repository-endpoint --domain "$CODEARTIFACT_DOMAIN" \
  --domain-owner "$CODEARTIFACT_OWNER" --repository "$CODEARTIFACT_REPOSITORY" --format pypi \
  --query repositoryEndpoint --output text)
# The token goes through the environment, not the command line other processes can read.
PIP_INDEX_URL="https://aws:${token}@${endpoint#https://}simple/" \
  "$APP_DIR/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$APP_DIR/ml/requirements.txt"
unset token
trap - ERR

# ---- the run -----------------------------------------------------------------------------
watch_for_interruption() {
  # EC2 posts spot/instance-action two minutes before it reclaims the instance; the
  # trainer needs less than that to write its checkpoint.
  local pid=$1
  while kill -0 "$pid" 2>/dev/null; do
    if action=$(imds spot/instance-action 2>/dev/null); then
      log "spot interruption notice ($action): asking the trainer to checkpoint"
      touch "$INTERRUPTED"
      kill -TERM "$pid"
      return 0
    fi
    sleep 5
  done
}

cd "$APP_DIR"
log "training: env $ENVIRONMENT, lake $LAKE_BUCKET, models $MODELS_BUCKET, table $TABLE"
# timeout passes the SIGTERM on to the trainer, and stops a run that outlives its limit.
timeout --signal=TERM --kill-after=120 "$MAX_RUNTIME_SECONDS" \
  "$APP_DIR/.venv/bin/python" -m ml train --env "$ENVIRONMENT" --lake-bucket "$LAKE_BUCKET" \
  --models-bucket "$MODELS_BUCKET" --table "$TABLE" --region "$REGION" &
trainer=$!
watch_for_interruption "$trainer" &
watcher=$!
status=0
wait "$trainer" || status=$?
kill "$watcher" 2>/dev/null || true

if [[ -f "$INTERRUPTED" ]]; then
  # Desired capacity stays as it is: the group replaces this instance once EC2 has
  # reclaimed it, and the new run resumes from the checkpoint.
  log "trainer exited $status after the interruption notice; a replacement instance resumes"
  exit 0
fi
case "$status" in
  0) log "training succeeded" ;;
  124) log "training outlived its limit of $MAX_RUNTIME_SECONDS s and was stopped"; report_failure ;;
  *) log "training failed with exit status $status"; report_failure ;;
esac
# A failed run is not retried here: the same error would come back and bill again. The
# alarm tells on-call, who starts a run by hand once it is fixed (docs/training.md).
scale_to_zero
