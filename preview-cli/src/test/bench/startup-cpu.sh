#!/bin/bash
# CPU seconds of the CLI vs a baseline jar. Run in a dir holding preview.jar, the launcher ./preview (after ./preview cds-archive),
# typo.yaml and valid.yaml (local provider), with the baseline at /tmp/preview-cli-base.jar: N=7 ./startup-cpu.sh
# CPU seconds (user+sys) of each variant, median of N, interleaved
N=${N:-7}
mkdir -p /tmp/clibench
declare -A R
for i in $(seq $N); do
  for v in "base|--help|java -jar /tmp/preview-cli-base.jar --help" "jar|--help|java -jar preview.jar --help" "launcher|--help|./preview --help" \
           "base|validate(typo)|java -jar /tmp/preview-cli-base.jar list -c typo.yaml" "jar|validate(typo)|java -jar preview.jar validate -c typo.yaml" "launcher|validate(typo)|./preview validate -c typo.yaml" \
           "base|list|java -jar /tmp/preview-cli-base.jar list -c valid.yaml" "jar|list|java -jar preview.jar list -c valid.yaml" "launcher|list|./preview list -c valid.yaml"; do
    IFS='|' read -r var cmd line <<< "$v"
    /usr/bin/time -o /tmp/clibench/t1 -f "%U %S %e" $line >/dev/null 2>&1; t=$(tail -1 /tmp/clibench/t1)
    R["$cmd|$var"]+="$(echo $t | awk '{printf "%.2f/%.2f ", $1+$2, $3}')"
  done
done
for k in "${!R[@]}"; do
  cpu=$(echo ${R[$k]} | tr ' ' '\n' | cut -d/ -f1 | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  wall=$(echo ${R[$k]} | tr ' ' '\n' | cut -d/ -f2 | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "$k cpu=$cpu wall=$wall"
done | sort
cat /proc/loadavg
