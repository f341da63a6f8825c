# bench/lib.sh - shared by bench/run.sh and bench/scale.sh (sourced, not run).
# Before sourcing set: tmp (the run's temp dir), LIB_TAG (log prefix, e.g. "bench")
# and LIB_KEEP (1 keeps $tmp on exit). Gives: pids (children to stop on exit),
# problems/notes arrays, log, problem, note, report_notes_and_problems, and the exit trap that stops every
# child and removes $tmp.

pids=()
problems=()
notes=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${LIB_KEEP:-0}" = 1 ]; then
        echo "$LIB_TAG: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[%s %s] %s\n' "$LIB_TAG" "$(date +%T)" "$*" >&2; }
problem() {
    problems+=("$*")
    log "PROBLEM: $*"
}
note() {
    notes+=("$*")
    log "note: $*"
}

# The Notes and Problems sections of a Markdown report (on stdout).
report_notes_and_problems() {
    if [ "${#notes[@]}" -gt 0 ]; then
        echo
        echo "Notes:"
        echo
        printf -- '- %s\n' "${notes[@]}"
    fi
    if [ "${#problems[@]}" -gt 0 ]; then
        echo
        echo "Problems:"
        echo
        for p in "${problems[@]}"; do echo "- $p"; done
    fi
}
