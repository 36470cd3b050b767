"""Summarizes the A/B runs of this directory into summary.json and prints a table."""
import glob
import json
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
rows = []
for path in sorted(glob.glob(os.path.join(here, "r*-*.json"))):
    level = json.load(open(path))["levels"][0]
    push = level.get("web_push")
    rows.append({
        "run": os.path.basename(path)[:-5],
        "web_push": push is not None,
        "flows_per_s": level["flows_per_s"],
        "errors": sum(level["errors"].values()),
        "server_cpu_ms_per_flow": level["server_cpu_ms_per_flow"],
        "bench_cpu_ms_per_flow": level["bench_cpu_ms_per_flow"],
        "other_cores": level["cpu"]["other_cores"],
        "flow_p50_ms": level["latency"]["flow"]["p50_ms"],
        "flow_p99_ms": level["latency"]["flow"]["p99_ms"],
        "pushes_received": push and push["received"],
        "pushes_per_flow": push and push["per_flow"],
        "requests": push and push["requests"],
        "requests_pushed": push and push["requests_pushed"],
        "create_to_push_p50_ms": push and push["create_to_push"]["p50_ms"],
        "create_to_push_p99_ms": push and push["create_to_push"]["p99_ms"],
        "server_cpu_ms_per_push": push and push["server_cpu_ms_per_push"],
    })

def median(key, with_push):
    return statistics.median(r[key] for r in rows if r["web_push"] == with_push)

a, b = median("flows_per_s", False), median("flows_per_s", True)
ca, cb = median("server_cpu_ms_per_flow", False), median("server_cpu_ms_per_flow", True)
pairs = {}
for r in rows:
    pairs.setdefault(r["run"].split("-")[0], {})[r["web_push"]] = r
ratios = [p[True]["flows_per_s"] / p[False]["flows_per_s"] for p in pairs.values() if len(p) == 2]
summary = {
    "runs": rows,
    "median_flows_per_s": {"without_push": a, "with_web_push": b},
    "ratio_of_medians": round(b / a, 3),
    "ratio_per_round": [round(x, 3) for x in ratios],
    "median_server_cpu_ms_per_flow": {"without_push": ca, "with_web_push": cb},
    "server_cpu_ms_per_flow_added_by_push": round(cb - ca, 3),
}
with open(os.path.join(here, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
for r in rows:
    print(" ".join(f"{k}={v}" for k, v in r.items()))
print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
