#!/bin/sh
# W1 with Miller: filter, stats1 per country, columns renamed to the shared names.
# usage: w1.sh IN OUT
exec mlr --icsv --ocsv filter '$event == "purchase"' \
  then stats1 -a count,sum,mean -f amount,latency_ms -g country \
  then cut -o -f country,amount_count,amount_sum,latency_ms_mean \
  then rename amount_count,count,amount_sum,sum_amount,latency_ms_mean,avg_latency_ms \
  "$1" > "$2"
