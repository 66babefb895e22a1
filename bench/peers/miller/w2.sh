#!/bin/sh
# W2 with Miller: JSON lines in and out.
# usage: w2.sh IN OUT
exec mlr --ijsonl --ojsonl filter '$amount > 50' \
  then put '$amount_cents = int(round($amount * 100))' \
  then cut -o -f ts,user_id,amount,amount_cents \
  "$1" > "$2"
