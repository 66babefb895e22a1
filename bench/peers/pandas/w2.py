# W2 with pandas: read JSON lines, keep amount > 50, project, add amount_cents, write JSON lines.
# usage: python w2.py IN OUT [--chunked]
import sys
import pandas as pd

inp, out = sys.argv[1], sys.argv[2]
chunked = "--chunked" in sys.argv[3:]


def step(df):
    df = df[df["amount"] > 50]
    df = df[["ts", "user_id", "amount"]].copy()
    df["amount_cents"] = (df["amount"] * 100).round().astype("int64")
    return df


if not chunked:
    df = pd.read_json(inp, lines=True)
    step(df).to_json(out, orient="records", lines=True)
else:
    with open(out, "w") as f:
        for df in pd.read_json(inp, lines=True, chunksize=250_000):
            text = step(df).to_json(orient="records", lines=True)
            f.write(text if text.endswith("\n") else text + "\n")
