#!/bin/sh
# The A/B of --web-push: three rounds, each a run without push targets (A) and one with a Web
# Push subscription on every device (B), in alternating order. Run from the repository root
# after `cargo build --release -p assent-bench`; then `python3 summarize.py` in this directory.
set -eu
dir=bench/results/push-ab-ring-2026-12-04
common="--conc 32 --duration 15 --warmup 3 --quiet --results $dir"
for round in 1 2 3; do
    if [ $((round % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
    for run in $order; do
        if [ "$run" = a ]; then
            target/release/assent-bench $common --name "r$round-a-no-push"
        else
            target/release/assent-bench $common --name "r$round-b-web-push" --web-push
        fi
    done
done
