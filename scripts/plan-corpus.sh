#!/usr/bin/env bash
# Measures the native runner on a corpus of real JMeter plans (issue 21): how many validate as
# they are, how many need only their data files or -J properties, and which element families
# block the rest, counted by the plans they block.
#
# Only `loadlake run --validate` is run: it compiles the plan and sends nothing, so no traffic
# leaves this machine (or goes anywhere). Each validation has a timeout.
#
# The corpus (benches/plan-corpus/SOURCES.md names every plan: repository, path, commit,
# licence) is kept outside the repository, at /work/plan-corpus/<owner>__<repo>/<path>, with
# the data files the plans name when their repository has them. Without it, the script falls
# back to benches/plan-corpus/plans, then to JMeter's own plans in
# ../shared/fixtures/jmeter-upstream/plans.
#
# Usage: scripts/plan-corpus.sh [CORPUS_DIR]
# Env:   LOADLAKE_BIN   the binary (default $CARGO_TARGET_DIR/debug/loadlake, built first with
#                       `cargo build --workspace` when it is missing)
#        TIMEOUT        seconds per validation (default 30)
#        OUT            where results.tsv (one row per plan) and summary.md go
#                       (default bench-out/plan-corpus, ignored by git)
# The classification rules are in scripts/lib/plan_corpus.py; before the corpus, it classifies
# four hand-made plans whose class is known and stops if the CLI's messages no longer read as
# it expects.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

CORPUS=${1:-}
if [ -z "$CORPUS" ]; then
    for c in /work/plan-corpus benches/plan-corpus/plans ../shared/fixtures/jmeter-upstream/plans; do
        if [ -d "$c" ]; then CORPUS=$c; break; fi
    done
fi
if [ -z "$CORPUS" ] || [ ! -d "$CORPUS" ]; then
    echo "no corpus folder (give one: scripts/plan-corpus.sh DIR)" >&2
    exit 1
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/loadlake-target}
BIN=${LOADLAKE_BIN:-$CARGO_TARGET_DIR/debug/loadlake}
if [ ! -x "$BIN" ]; then
    cargo build --workspace
fi
OUT=${OUT:-bench-out/plan-corpus}
mkdir -p "$OUT"
STORE=$(mktemp -d)
trap 'rm -rf "$STORE"' EXIT

echo "corpus: $CORPUS"
echo "binary: $BIN (built $(date -u -r "$BIN" +%Y-%m-%dT%H:%MZ)); tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "date:   $(date -u +%Y-%m-%dT%H:%MZ)"
# What the figures depend on that the commit does not say: uncommitted changes to the crates
# that read, compile and validate a plan.
DIRTY=$(git status --porcelain --untracked-files=no -- crates/plan crates/runner crates/cli 2>/dev/null | wc -l)
if [ "$DIRTY" -gt 0 ]; then
    echo "note:   $DIRTY modified tracked files under crates/plan, crates/runner, crates/cli"
fi
if [ -n "$(find crates/plan/src crates/runner/src crates/cli/src -name '*.rs' -newer "$BIN" -print -quit)" ]; then
    echo "note:   the binary is older than sources under crates/ (cargo build --workspace)"
fi
echo
python3 scripts/lib/plan_corpus.py "$CORPUS" --bin "$BIN" --store "$STORE" \
    --timeout "${TIMEOUT:-30}" --out "$OUT"
echo
echo "per plan: $OUT/results.tsv; this summary: $OUT/summary.md"
