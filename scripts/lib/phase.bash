# Sourced by scripts/setup, scripts/test, scripts/dev and scripts/tfcheck, so that a long
# command is never silent: every phase prints its start with the time since the command
# began, what it is doing, and its duration when it ends; a phase that downloads or
# compiles also prints its progress every MEDI_PROGRESS_EVERY seconds (default 15).
#
#   phase "go mod download" --progress go_modules_progress -- go mod download
#
# prints
#
#   == [0:03] go mod download
#      [0:18] go mod download: 41 modules, 212 MB downloaded so far
#   == [0:35] go mod download: done in 32s

# When the whole command started (epoch seconds); the scripts it calls inherit it.
: "${MEDI_STARTED:=$EPOCHSECONDS}"
export MEDI_STARTED

# clock prints the time since the command started as m:ss.
clock() {
  local s=$((EPOCHSECONDS - MEDI_STARTED))
  printf '%d:%02d' $((s / 60)) $((s % 60))
}

# took SECONDS prints a duration as "42s" or "3m07s".
took() {
  if [ "$1" -lt 60 ]; then printf '%ds' "$1"; else printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); fi
}

# phase NAME [--note TEXT] [--progress FUNCTION] -- COMMAND...
# Runs COMMAND (a program, not a shell function relying on set -e) as one phase. TEXT is
# shown once, on the first line. FUNCTION, when given, prints one line of progress (sizes,
# counts; $PHASE_T0 is the phase's start); it runs in a background loop that ends with the
# phase, or with this shell if it dies first.
phase() {
  local name=$1 note= progress=
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
    --note) note=" ($2)" && shift 2 ;;
    --progress) progress=$2 && shift 2 ;;
    --) shift && break ;;
    *) break ;;
    esac
  done
  local t0=$EPOCHSECONDS rc=0 watcher=
  echo "== [$(clock)] $name$note"
  if [ -n "$progress" ]; then
    (
      export PHASE_T0=$t0
      parent=$$ every=${MEDI_PROGRESS_EVERY:-15} n=0
      while kill -0 "$parent" 2>/dev/null; do
        sleep 1
        n=$((n + 1))
        [ $((n % every)) -eq 0 ] && echo "   [$(clock)] $name: $($progress)"
      done
    ) &
    watcher=$!
  fi
  "$@" || rc=$?
  if [ -n "$watcher" ]; then
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
  fi
  if [ $rc -eq 0 ]; then
    echo "== [$(clock)] $name: done in $(took $((EPOCHSECONDS - t0)))"
  else
    echo "== [$(clock)] $name: failed after $(took $((EPOCHSECONDS - t0))) (exit $rc)" >&2
  fi
  return $rc
}

# size_mb DIR prints the size of DIR in MB (0 when absent).
size_mb() {
  if [ -d "$1" ]; then du -sm "$1" 2>/dev/null | cut -f1; else echo 0; fi
}

# go_modules_progress: how many of the modules go.sum lists are in the module cache
# (go mod download fetches the part of them the packages import, about two thirds).
go_modules_progress() {
  local dl=${GOMODCACHE:-$(go env GOMODCACHE)}/cache/download have=0 path
  # go.sum lines without /go.mod name a module's source; the cache spells upper-case
  # letters as !lower-case.
  while read -r path; do
    [ -f "$dl/$path" ] && have=$((have + 1))
  done < <(awk '
    function esc(s,   out, i, c) {
      for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); out = out (c ~ /[A-Z]/ ? "!" tolower(c) : c) }
      return out
    }
    $2 !~ /\/go\.mod$/ && !seen[$1 " " $2]++ { print esc($1) "/@v/" esc($2) ".zip" }' go.sum)
  echo "$have modules, $(size_mb "$dl") MB downloaded so far"
}

# build_cache_progress: what the Go build cache gained since the phase started (it grows
# as packages compile).
build_cache_progress() {
  local mb
  mb=$(find "${GOCACHE:-$(go env GOCACHE)}" -type f -newermt "@$PHASE_T0" -printf '%s\n' 2>/dev/null |
    awk '{ s += $1 } END { printf "%d", s / 1048576 }')
  echo "compiling, $mb MB compiled into the build cache so far"
}
