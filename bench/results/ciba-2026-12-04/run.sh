#!/bin/sh
# The native flow and the CIBA poll-mode flow, alternated three times (the order swapped each
# round), on the same release build: --conc 8,32 --duration 10 --warmup 2, 2,048 users.
set -e
bench=${BENCH:-target/release/assent-bench}
out=bench/results/ciba-2026-12-04
for round in 1 2 3; do
  if [ $((round % 2)) -eq 1 ]; then order="native ciba"; else order="ciba native"; fi
  for flow in $order; do
    flag=""; [ "$flow" = ciba ] && flag="--ciba"
    "$bench" --conc 8,32 --duration 10 --warmup 2 --quiet $flag --results "$out" --name "$flow-$round"
  done
done
