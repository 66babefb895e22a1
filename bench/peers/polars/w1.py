# W1 with Polars (lazy scan, then collect).
import sys
import polars as pl

inp, out = sys.argv[1], sys.argv[2]
(
    pl.scan_csv(inp)
    .filter(pl.col("event") == "purchase")
    .group_by("country", maintain_order=True)
    .agg(
        pl.len().alias("count"),
        pl.col("amount").sum().alias("sum_amount"),
        pl.col("latency_ms").mean().alias("avg_latency_ms"),
    )
    .collect()
    .write_csv(out)
)
