#!/bin/bash
# A fleet soak as a Slurm job array: one array task per shard.
#
#   mkdir -p logs     # Slurm opens --output before the script runs
#   sbatch --array=1-6 examples/fleet/slurm-array.sh
#   # when done:
#   mmtorture report logs/soak-*-of-6.jsonl
#
# Slurm sets SLURM_ARRAY_TASK_ID (1..6 here) and SLURM_ARRAY_TASK_COUNT (6);
# mmtorture never takes them silently, so the shard is passed explicitly.
#SBATCH --job-name=mmtorture-soak
#SBATCH --cpus-per-task=8
#SBATCH --mem=4G
#SBATCH --time=08:30:00
#SBATCH --output=logs/slurm-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
mkdir -p logs
i=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))
n=${SLURM_ARRAY_TASK_COUNT}
exec node dist/src/cli.js soak --threads 1-16 --era e1,e3 --per-vma-lock both \
  --segment 10s --duration 8h --keep-going --seed 20261203 \
  --shard "$i/$n" --log "logs/soak-$i-of-$n.jsonl" --json "logs/soak-$i-of-$n.json"
