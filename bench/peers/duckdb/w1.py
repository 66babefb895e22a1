# W1 with DuckDB: one SQL statement over the CSV file, COPY to CSV.
import sys
import duckdb

inp, out = sys.argv[1], sys.argv[2]
duckdb.sql(f"""
COPY (
  SELECT country, count(*) AS count, sum(amount) AS sum_amount, avg(latency_ms) AS avg_latency_ms
  FROM read_csv('{inp}', header = true)
  WHERE event = 'purchase'
  GROUP BY country
) TO '{out}' (HEADER, DELIMITER ',')
""")
