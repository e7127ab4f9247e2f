#!/usr/bin/env bash
# Benchmarks of the stocks recipe on the shared real data (not part of the tests).
#   ACL18/StockNet movement: StockNet dates, window of 6 prices (5 returns), seeds 1-5.
#   Exchange rate (LSTNet): 60/20/20, window 168, horizons 3/6/12/24, all 8 series jointly, seeds 1-3;
#   then once more (seed 1) with --target price.
# Usage: bash bench/stocks_benchmarks.sh [OUT_DIR] ; then python bench/stocks_summary.py OUT_DIR
set -euo pipefail
OUT=${1:-/tmp/stocks_bench}
DATA=${DATASETS:-../shared/datasets}/stocks
export TF_CPP_MIN_LOG_LEVEL=3
for seed in ${ACL18_SEEDS-1 2 3 4 5}; do
  python -m recipes.stocks --task movement --data "$DATA/acl18_stocknet/raw" \
    --split-dates 2014-01-02,2015-08-03,2015-10-01,2015-12-31 --window 6 \
    --seed "$seed" --verbose 0 --output-dir "$OUT/acl18/seed$seed"
done
for seed in ${EXCHANGE_SEEDS-1 2 3}; do
  for horizon in 3 6 12 24; do
    python -m recipes.stocks --task forecast --data "$DATA/exchange_rate/exchange_rate.txt.gz" --series joint \
      --window 168 --horizon "$horizon" --validation-fraction 0.2 --test-fraction 0.2 --epochs 15 --patience 3 \
      --seed "$seed" --verbose 0 --output-dir "$OUT/exchange_rate/h${horizon}_seed$seed"
  done
done
# The same with the networks predicting standardized levels instead of log-returns (as LSTNet does).
for horizon in 3 6 12 24; do
  python -m recipes.stocks --task forecast --data "$DATA/exchange_rate/exchange_rate.txt.gz" --series joint \
    --window 168 --horizon "$horizon" --validation-fraction 0.2 --test-fraction 0.2 --epochs 15 --patience 3 \
    --target price --seed 1 --verbose 0 --output-dir "$OUT/exchange_rate_price/h${horizon}_seed1"
done
