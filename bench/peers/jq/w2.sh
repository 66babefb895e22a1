#!/bin/sh
# W2 with jq (compact output, one object per line).
# usage: w2.sh IN OUT
exec jq -c 'select(.amount > 50) | {ts, user_id, amount, amount_cents: ((.amount * 100) | round)}' "$1" > "$2"
