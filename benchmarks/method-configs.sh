# Sourced by byte-identity.sh and methods.sh: one configuration of every merge method over the models a (base), b and
# c in the work folder (relative paths, so runs do not depend on where it is), written as DIR/<method>.yml.
#   write_method_configs DIR LAYERS
# (The function body is not indented: its multi-line strings are YAML, where indentation is meaning.)
METHODS_ALL="linear slerp nuslerp multislerp karcher task_arithmetic ties dare_ties dare_linear breadcrumbs
  breadcrumbs_ties della della_linear model_stock sce ram ramplus_tl nearswap arcee_fusion passthrough"

write_method_configs() {
local dir="$1" layers="$2"
models() { # $1 = per-model parameters, or empty; B and C under base A
  local p="${1:+    parameters: {$1\}}"
  printf 'base_model: a\n%s' "$(others "$1")"
}
others() { # $1 = per-model parameters, or empty; B and C without a base
  local p="${1:+    parameters: {$1\}}"
  printf 'models:\n  - model: b\n%s\n  - model: c\n%s\n' "$p" "$p"
}
config() { # $1 = name, $2 = method, rest = YAML body
  local name="$1" method="$2"
  shift 2
  printf 'merge_method: %s\n%s\ndtype: bfloat16\n' "$method" "$*" > "$dir/$name.yml"
}
config linear linear "$(others 'weight: 0.5')"
config slerp slerp "base_model: a
models:
  - model: a
  - model: b
parameters:
  t: [0, 0.3, 0.7, 1]"
config nuslerp nuslerp "models:
  - model: b
    parameters: {weight: 0.3}
  - model: c
    parameters: {weight: 0.7}"
config multislerp multislerp "$(others 'weight: 0.5')"
config karcher karcher "models:
  - model: a
  - model: b
  - model: c"
for m in task_arithmetic ties dare_ties dare_linear; do config "$m" "$m" "$(models 'weight: 0.5, density: 0.5')"; done
for m in breadcrumbs breadcrumbs_ties; do config "$m" "$m" "$(models 'weight: 0.5, density: 0.9, gamma: 0.01')"; done
for m in della della_linear; do config "$m" "$m" "$(models 'weight: 0.5, density: 0.5, epsilon: 0.1')"; done
config model_stock model_stock "$(models '')"
config sce sce "$(models '')
parameters: {select_topk: 0.5}"
config ram ram "$(models '')"
config ramplus_tl ramplus_tl "$(models '')"
config nearswap nearswap "base_model: a
models:
  - model: b
parameters: {t: 0.001}"
config arcee_fusion arcee_fusion "base_model: a
models:
  - model: b"
config passthrough passthrough "slices:
  - sources:
      - model: a
        layer_range: [0, 1]
  - sources:
      - model: b
        layer_range: [1, $layers]"
}
