#!/usr/bin/env bash
# Runs an autoscale-sim sweep as a Slurm job array, one shard per array task, and merges the
# shards when every task has finished. docs/scale-out.md describes the setup.
#
# Submit the array and the merge, with 4 shards unless SHARDS gives another number:
#
#   deploy/slurm-sweep.sh submit scenarios/sweep-consolidation.yaml results/consolidation 4
#
# which runs, in effect:
#
#   sbatch --array=0-3 deploy/slurm-sweep.sh run SWEEP_FILE OUT_DIR
#   sbatch --dependency=afterok:<array job id> deploy/slurm-sweep.sh merge SWEEP_FILE OUT_DIR
#
# Each task writes OUT_DIR/shard-I-of-N; the merge writes OUT_DIR/merged. The program is
# `autoscale-sim` on PATH, or the path in the AUTOSCALE_SIM variable. OUT_DIR must be on a file
# system that every node of the cluster shares.
#
#SBATCH --job-name=autoscale-sim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=1G
#SBATCH --time=02:00:00
#SBATCH --output=autoscale-sim-sweep-%A_%a.log

set -euo pipefail

usage="usage: $0 submit SWEEP_FILE OUT_DIR [SHARDS] | run SWEEP_FILE OUT_DIR | merge SWEEP_FILE OUT_DIR"
mode=${1:?$usage}
sweep_file=${2:?$usage}
out_dir=${3:?$usage}
program=${AUTOSCALE_SIM:-autoscale-sim}

case "$mode" in
  submit)
    shards=${4:-4}
    if ! [[ "$shards" =~ ^[1-9][0-9]*$ ]]; then
      echo "error: SHARDS must be a whole number 1 or more, not '$shards'" >&2
      exit 2
    fi
    # Check the sweep file here, before any job waits in the queue for it.
    "$program" sweep "$sweep_file" --list > /dev/null
    # Under sbatch the script runs from a spool copy, so the tasks are given this file's path.
    script=$(realpath "$0")
    array_job=$(sbatch --parsable --array="0-$((shards - 1))" "$script" run "$sweep_file" "$out_dir")
    array_job=${array_job%%;*}
    merge_job=$(sbatch --parsable --dependency="afterok:$array_job" --cpus-per-task=1 \
      --job-name=autoscale-sim-merge "$script" merge "$sweep_file" "$out_dir")
    echo "submitted array job $array_job ($shards shards) and merge job ${merge_job%%;*}"
    ;;
  run)
    # The sweep reads its shard from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
    # SLURM_ARRAY_TASK_COUNT, and writes into OUT_DIR/shard-I-of-N.
    if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
      echo "error: 'run' is for the tasks of a job array; use 'submit' to start one" >&2
      exit 2
    fi
    exec "$program" sweep "$sweep_file" --out "$out_dir" \
      --threads "${SLURM_CPUS_PER_TASK:-1}" --quiet
    ;;
  merge)
    exec "$program" merge "$out_dir" --out "$out_dir/merged" --quiet
    ;;
  *)
    echo "error: unknown mode '$mode'; $usage" >&2
    exit 2
    ;;
esac
