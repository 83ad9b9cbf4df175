#!/usr/bin/env bash
# Installs moto_server (Debian package python3-moto, only in trixie) without touching the system's
# apt sources: a private copy of the machine's own entries with the suite renamed to trixie.
# Arguments name more packages (of the machine's own suite) to install in the same apt run.
set -euo pipefail
[ -x /usr/bin/moto_server ] && exit 0

work=$(mktemp -d)
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/archives/partial"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  # keep only the main Debian entry (not -security / -updates), renamed to trixie
  awk 'BEGIN{RS="";ORS="\n\n"} /Suites:/ && !/security/' "$f" \
    | sed -E 's/^Suites:.*/Suites: trixie/' > "$work/sources.list.d/trixie.sources"
done
if [ -f /etc/apt/sources.list ] && grep -qE '^deb ' /etc/apt/sources.list; then
  grep -E '^deb ' /etc/apt/sources.list | grep -v security | head -1 \
    | awk '{$3="trixie"; print}' > "$work/sources.list.d/trixie.list"
fi
opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$work/sources.list.d"
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
      -o "APT::Get::List-Cleanup=0")
apt-get "${opts[@]}" update -qq
(cd "$work" && apt-get "${opts[@]}" download python3-moto)
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work"/python3-moto_*.deb python3-flask-cors "$@"
rm -rf "$work"
/usr/bin/moto_server --version >/dev/null 2>&1 || true
