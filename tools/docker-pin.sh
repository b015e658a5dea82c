#!/usr/bin/env bash
# Pins every FROM image of a Dockerfile to the registry's current digest for its tag:
# FROM name:tag[@sha256:...] becomes FROM name:tag@sha256:<current>. Needs Docker
# with buildx and access to the registries; run it, review the diff, commit it.
set -euo pipefail
file=${1:-Dockerfile}
command -v docker >/dev/null || { echo "docker-pin: needs docker (with buildx)"; exit 1; }
grep -E '^FROM ' "$file" | awk '{print $2}' | while read -r ref; do
	image=${ref%@*}
	digest=$(docker buildx imagetools inspect "$image" --format '{{json .Manifest.Digest}}' | tr -d '"')
	case $digest in sha256:*) ;; *) echo "docker-pin: no digest for $image"; exit 1 ;; esac
	echo "$image@$digest"
	# Replace the reference on its FROM line, whatever digest it had.
	sed -i -E "s#^FROM ${image//./\\.}(@sha256:[0-9a-f]{64})?( |\$)#FROM ${image}@${digest}\\2#" "$file"
done
