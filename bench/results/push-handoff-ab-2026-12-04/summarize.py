"""Summarizes the runs of this directory (two builds, with and without push targets) into
summary.json and prints the medians per build."""
import glob
import json
import os
import statistics

here = os.path.dirname(os.path.abspath(__file__))
rows = []
for path in sorted(glob.glob(os.path.join(here, "r*-*.json"))):
    level = json.load(open(path))["levels"][0]
    push = level.get("web_push")
    name = os.path.basename(path)[:-5]
    rows.append({
        "run": name,
        "build": name.split("-")[1],
        "web_push": push is not None,
        "flows_per_s": level["flows_per_s"],
        "errors": sum(level["errors"].values()),
        "server_cpu_ms_per_flow": level["server_cpu_ms_per_flow"],
        "bench_cpu_ms_per_flow": level["bench_cpu_ms_per_flow"],
        "other_cores": round(level["cpu"]["other_cores"], 3),
        "flow_p50_ms": level["latency"]["flow"]["p50_ms"],
        "flow_p99_ms": level["latency"]["flow"]["p99_ms"],
        "pushes_per_flow": push and push["per_flow"],
        "create_to_push_p50_ms": push and push["create_to_push"]["p50_ms"],
        "create_to_push_p99_ms": push and push["create_to_push"]["p99_ms"],
    })


def median(key, build, with_push):
    return statistics.median(
        r[key] for r in rows if r["build"] == build and r["web_push"] == with_push
    )


builds = {}
for build in ("before", "after"):
    a = median("flows_per_s", build, False)
    b = median("flows_per_s", build, True)
    ca = median("server_cpu_ms_per_flow", build, False)
    cb = median("server_cpu_ms_per_flow", build, True)
    builds[build] = {
        "median_flows_per_s": {"without_push": a, "with_web_push": b},
        "ratio_of_medians": round(b / a, 3),
        "median_server_cpu_ms_per_flow": {"without_push": ca, "with_web_push": cb},
        "server_cpu_ms_per_flow_added_by_push": round(cb - ca, 3),
        "median_create_to_push_p50_ms": median("create_to_push_p50_ms", build, True),
    }
summary = {"runs": rows, "builds": builds}
with open(os.path.join(here, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
for r in rows:
    print(" ".join(f"{k}={v}" for k, v in r.items()))
print(json.dumps(builds, indent=2))
