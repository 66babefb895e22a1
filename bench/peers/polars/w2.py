# W2 with Polars: lazy NDJSON scan with an explicit schema, streamed to an NDJSON sink.
import sys
import polars as pl

inp, out = sys.argv[1], sys.argv[2]
schema = {
    "ts": pl.String, "user_id": pl.Int64, "country": pl.String, "event": pl.String,
    "amount": pl.Float64, "latency_ms": pl.Int64, "ua": pl.String,
}
(
    pl.scan_ndjson(inp, schema=schema)
    .filter(pl.col("amount") > 50)
    .select("ts", "user_id", "amount", (pl.col("amount") * 100).round().cast(pl.Int64).alias("amount_cents"))
    .sink_ndjson(out)
)
