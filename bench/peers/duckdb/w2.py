# W2 with DuckDB: read_json with declared columns (so ts stays text), COPY to JSON lines.
import sys
import duckdb

inp, out = sys.argv[1], sys.argv[2]
duckdb.sql(f"""
COPY (
  SELECT ts, user_id, amount, CAST(round(amount * 100) AS BIGINT) AS amount_cents
  FROM read_json('{inp}', format = 'newline_delimited', columns = {{
    ts: 'VARCHAR', user_id: 'BIGINT', country: 'VARCHAR', event: 'VARCHAR',
    amount: 'DOUBLE', latency_ms: 'BIGINT', ua: 'VARCHAR'}})
  WHERE amount > 50
) TO '{out}' (FORMAT JSON)
""")
