# Sourced by e2e-merge.sh and gguf.sh: builds what is missing, generates the docs/performance.md §5.2 pair and its
# SLERP config in $work, and defines the timing helpers. Expects $root and $work to be set.
bench_jar="$root/benchmarks/target/benchmarks.jar"
if ! ls "$root"/cli/target/amalgam-cli-*-cli.jar >/dev/null 2>&1 || [ ! -f "$bench_jar" ]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi

java -cp "$bench_jar" dev.amalgam.bench.GenerateModels "$work/a" "$work/b" "${LAYERS:-16}"
cat > "$work/slerp.yml" <<YAML
merge_method: slerp
base_model: $work/a
models:
  - model: $work/a
  - model: $work/b
parameters:
  t: 0.4
dtype: bfloat16
YAML

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
range() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.2f-%.2f", lo, hi}'; }
best() { sort -g | head -n 1; }
