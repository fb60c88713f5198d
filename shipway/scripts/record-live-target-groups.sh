#!/usr/bin/env bash
# RecordLiveTargetGroups: the pipeline's step after an environment's deploy, beside RecordImageTag.
#
# ECS-native canary, linear and blue/green deploys move production traffic to the other target group of a
# web process on every deployment. For each such process, read its production listener rule's weights and
# write which group holds the live tasks ("primary" or "alternate") where the runtime stack reads it, so that a
# later stack update writes those weights instead of 100/0 on a group without tasks (aws/aws-cdk#36649).
#
# Environment: PROCESSES (space-separated), PARAMETER_PREFIX (/shipway/<name>/apps/<app>/<env>), LIVE_PRIMARY,
# LIVE_ALTERNATE.
set -euo pipefail

parameter() {
    aws ssm get-parameter --name "$1" --query Parameter.Value --output text
}

# live_group PROCESS: prints LIVE_PRIMARY or LIVE_ALTERNATE, whichever group the rule weighs most.
live_group() {
    local process=$1
    parameter "$PARAMETER_PREFIX/$process/routing" > "routing-$process.json"
    aws elbv2 describe-rules --rule-arns "$(jq --raw-output .rule "routing-$process.json")" --output json \
        > "rule-$process.json"
    # shellcheck disable=SC2016  # jq's variables
    jq --raw-output --slurpfile routing "routing-$process.json" \
        --arg primary "$LIVE_PRIMARY" --arg alternate "$LIVE_ALTERNATE" '
        [.Rules[0].Actions[] | select(.Type == "forward") | .ForwardConfig.TargetGroups[]] | max_by(.Weight)
        | if .TargetGroupArn == $routing[0].primary then $primary
          elif .TargetGroupArn == $routing[0].alternate then $alternate
          else error("the rule forwards to neither of the process target groups") end' "rule-$process.json"
}

main() {
    local process live
    for process in $PROCESSES; do
        live=$(live_group "$process")
        aws ssm put-parameter --name "$PARAMETER_PREFIX/$process/live-target-group" --value "$live" --overwrite \
            > /dev/null
        echo "$process: the $live target group holds the live tasks"
    done
}

main "$@"
