#!/usr/bin/env bash
# Builds a local Go vulnerability database for `govulncheck -db file://...`
# from the golang.org/x/vulndb module, fetched through the Go module proxy:
# the module ships every report as OSV JSON in data/osv, and tools/vulndb
# turns that directory into the v1 layout govulncheck reads (index/db.json,
# index/modules.json, ID/GO-*.json). Use it where vuln.go.dev is out of reach.
#
#   tools/vulndb.sh            build or refresh .cache/vulndb (newest snapshot)
#   VULNDB_VERSION=v0.0.0-...  pin a snapshot of golang.org/x/vulndb instead
#
# Idempotent: nothing is rebuilt while the snapshot and the converter are
# unchanged. When the proxy cannot be asked for the newest snapshot, an
# existing database is used as it is, with a warning.
set -euo pipefail

GO=${GO:-go}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache"
db="$cache/vulndb"
stamp="$cache/vulndb.stamp"
want=${VULNDB_VERSION:-latest}

mkdir -p "$cache"
work=$(mktemp -d "$cache/vulndb.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Ask outside any module, so the project's go.mod and go.sum stay untouched.
if ! info=$(cd "$work" && GOWORK=off GOFLAGS= "$GO" mod download -json "golang.org/x/vulndb@$want" 2>"$work/err"); then
	if [[ $want == latest && -f $db/index/modules.json ]]; then
		echo "vulndb: cannot fetch golang.org/x/vulndb@latest; using the database built from $(cat "$stamp" 2>/dev/null | head -n1)" >&2
		{ cat "$work/err"; grep '"Error"' <<<"${info:-}"; } | sed 's/^[[:space:]]*/vulndb:   /' >&2
		exit 0
	fi
	echo "vulndb: cannot fetch golang.org/x/vulndb@$want:" >&2
	{ cat "$work/err"; grep '"Error"' <<<"${info:-}"; } >&2
	exit 1
fi

field() { # the string value of a top-level field of go mod download -json
	sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$info" | head -n1
}
version=$(field Version)
dir=$(field Dir)
infofile=$(field Info)
if [[ -z $version || -z $dir || ! -d $dir/data/osv ]]; then
	echo "vulndb: golang.org/x/vulndb@$want has no data/osv directory" >&2
	exit 1
fi
# The snapshot's commit time (from the proxy's .info) dates index/db.json.
snaptime=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$infofile")

converter=$(cat "$root"/tools/vulndb/*.go | sha256sum | cut -c1-16)
key="golang.org/x/vulndb@$version converter:$converter"
if [[ -f $db/index/modules.json && -f $stamp && $(head -n1 "$stamp") == "$key" ]]; then
	echo "vulndb: up to date ($key)" >&2
	exit 0
fi

echo "vulndb: building from golang.org/x/vulndb@$version ($snaptime)" >&2
(cd "$root" && "$GO" run ./tools/vulndb -src "$dir/data/osv" -out "$work/db" ${snaptime:+-modified "$snaptime"})
rm -rf "$db"
mv "$work/db" "$db"
printf '%s\n' "$key" >"$stamp"
