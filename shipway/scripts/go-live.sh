#!/usr/bin/env bash
# GoLive: the pipeline's step after an environment's ECS deploy actions.
#
# Until the first image reaches an environment its runtime stack holds every service at 0 tasks and its
# autoscaling suspended (nothing to pull yet). When the image tag parameter still says "none", this deploy
# carried the first image: bring each service to the count its runtime stack publishes (a fixed count, or
# the autoscaling minimum with autoscaling resumed), then wait until the services are stable. Afterwards the
# tag is recorded, and from then on counts belong to autoscaling and operators: this step changes nothing.
#
# Environment: CLUSTER, IMAGE_TAG_PARAMETER, SERVICE_COUNTS_PARAMETER, NO_IMAGE_TAG; WAIT_ROUNDS (10-minute
# rounds of the services-stable waiter, 6 by default).
set -euo pipefail

# Autoscaling resumed: target tracking both ways and the scheduled actions.
RESUMED="DynamicScalingInSuspended=false,DynamicScalingOutSuspended=false"
RESUMED+=",ScheduledScalingSuspended=false"

parameter() {
    aws ssm get-parameter --name "$1" --query Parameter.Value --output text
}

# start SERVICE COUNT MIN MAX: MIN and MAX are "null" for a service without autoscaling.
start() {
    local service=$1 count=$2 min=$3 max=$4
    if [ "$min" != null ]; then
        aws application-autoscaling register-scalable-target --service-namespace ecs \
            --scalable-dimension ecs:service:DesiredCount --resource-id "service/$CLUSTER/$service" \
            --min-capacity "$min" --max-capacity "$max" \
            --suspended-state "$RESUMED"
        count=$min
    fi
    aws ecs update-service --cluster "$CLUSTER" --service "$service" --desired-count "$count" \
        --query service.serviceName --output text > /dev/null
    echo "$service: $count task(s)"
}

wait_stable() {
    local service=$1 round
    for round in $(seq 1 "${WAIT_ROUNDS:-6}"); do
        if aws ecs wait services-stable --cluster "$CLUSTER" --services "$service"; then
            echo "$service: stable"
            return 0
        fi
        echo "$service: not stable after round $round" >&2
    done
    echo "$service did not become stable; see its events:" \
        "aws ecs describe-services --cluster $CLUSTER --services $service" >&2
    return 1
}

main() {
    local tag service count min max
    tag=$(parameter "$IMAGE_TAG_PARAMETER")
    if [ "$tag" != "$NO_IMAGE_TAG" ]; then
        echo "$CLUSTER already runs $tag: service counts stay as autoscaling and operators set them"
        return 0
    fi
    parameter "$SERVICE_COUNTS_PARAMETER" > service-counts.json
    jq --raw-output '.[] | "\(.service) \(.count) \(.min) \(.max)"' service-counts.json > service-counts.txt
    while read -r service count min max; do
        start "$service" "$count" "$min" "$max" < /dev/null
    done < service-counts.txt
    while read -r service _; do
        wait_stable "$service" < /dev/null
    done < service-counts.txt
}

main "$@"
