# W1 with pandas, as a data scientist would write it: read the CSV, filter, group, write.
# usage: python w1.py IN OUT [--chunked]
import sys
import pandas as pd

inp, out = sys.argv[1], sys.argv[2]
chunked = "--chunked" in sys.argv[3:]

if not chunked:
    df = pd.read_csv(inp)
    p = df[df["event"] == "purchase"]
    g = p.groupby("country", sort=False).agg(
        count=("amount", "size"), sum_amount=("amount", "sum"), avg_latency_ms=("latency_ms", "mean")
    )
else:
    # Chunked: bounded memory; partial sums per chunk, combined at the end.
    parts = []
    for df in pd.read_csv(inp, chunksize=500_000):
        p = df[df["event"] == "purchase"]
        parts.append(
            p.groupby("country", sort=False).agg(
                count=("amount", "size"), sum_amount=("amount", "sum"), sum_latency=("latency_ms", "sum")
            )
        )
    t = pd.concat(parts).groupby(level=0, sort=False).sum()
    g = pd.DataFrame(
        {"count": t["count"], "sum_amount": t["sum_amount"], "avg_latency_ms": t["sum_latency"] / t["count"]}
    )
g.reset_index().to_csv(out, index=False)
