# tflint with the bundled terraform ruleset (no plugins to download: the CI and
# development machines cannot reach GitHub releases). scripts/tfcheck runs it with
# --recursive, so modules/ are linted too.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
