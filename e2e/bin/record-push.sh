#!/usr/bin/env bash
# record_push REGISTRY/REPOSITORY:TAG: put a stand-in image into the emulated ECR and append the reference to
# $E2E_PUSHES. ECR refuses a second push of an immutable tag, as it would refuse a real one.
record_push() {
    local image=$1 repository tag
    repository=${image#*/}
    tag=${repository##*:}
    repository=${repository%:*}
    aws ecr put-image --repository-name "$repository" --image-tag "$tag" \
        --image-manifest "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"sha256:$tag\"},\"layers\":[]}" \
        --query image.imageId.imageTag --output text > /dev/null
    echo "$image" >> "$E2E_PUSHES"
    echo "pushed $image (recorded)"
}
