"""Medians of the native and CIBA runs in this folder, per concurrency level."""
import glob
import json
import statistics

rows = {}
for path in sorted(glob.glob("*-[0-9].json")):
    flow = path.split("-")[0]
    for level in json.load(open(path))["levels"]:
        rows.setdefault((flow, level["concurrency"]), []).append(level)
summary = {}
for (flow, conc), levels in sorted(rows.items()):
    med = lambda key: statistics.median(l[key] for l in levels)
    p50 = statistics.median(l["latency"]["flow"]["p50_ms"] for l in levels)
    p99 = statistics.median(l["latency"]["flow"]["p99_ms"] for l in levels)
    errors = sum(len(l["errors"]) for l in levels)
    other = statistics.median(l["cpu"]["other_cores"] for l in levels)
    summary[f"{flow} c={conc}"] = {
        "flows_per_s": [round(l["flows_per_s"], 1) for l in levels],
        "median_flows_per_s": round(med("flows_per_s"), 1),
        "median_server_cpu_ms_per_flow": round(med("server_cpu_ms_per_flow"), 3),
        "median_flow_p50_ms": round(p50, 2),
        "median_flow_p99_ms": round(p99, 2),
        "median_other_cores": round(other, 2),
        "error_kinds": errors,
    }
json.dump(summary, open("summary.json", "w"), indent=2)
for name, s in summary.items():
    print(name, s)
