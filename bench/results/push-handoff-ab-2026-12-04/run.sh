#!/bin/sh
# The A/B of the local push hand-off: the build before it (a3fe24b) and the build with it, each
# without push targets and with --web-push, three rounds, the order rotated every round. Run
# from the repository root with the two builds' assent-bench binaries in BEFORE and AFTER; then
# `python3 summarize.py` in this directory.
set -eu
dir=bench/results/push-handoff-ab-2026-12-04
common="--conc 32 --duration 15 --warmup 3 --quiet --results $dir"
run() {  # build (before|after), push (no-push|web-push), round
    if [ "$1" = before ]; then bin="$BEFORE"; else bin="$AFTER"; fi
    if [ "$2" = web-push ]; then flag=--web-push; else flag=; fi
    "$bin" $common --name "r$3-$1-$2" $flag
}
for round in 1 2 3; do
    case $round in
        1) order="before:no-push after:no-push before:web-push after:web-push" ;;
        2) order="after:web-push before:web-push after:no-push before:no-push" ;;
        3) order="before:web-push after:no-push after:web-push before:no-push" ;;
    esac
    for item in $order; do
        run "${item%%:*}" "${item##*:}" "$round"
    done
done
