"""`-b slurm`: submit a run as a batch job with sbatch; the job runs `mlproj _exec-run`."""
