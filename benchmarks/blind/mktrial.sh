#!/usr/bin/env bash
# A trial directory for a tester helper: a clone of REV, a SQLite database with the example rota,
# and a `say` script that talks to `baishitong chat` as one resident at a time (`say reset`: the next).
#   bash benchmarks/blind/mktrial.sh /work/trials/NAME REV [PYTHON]
set -euo pipefail
dir=$(realpath -m "$1"); rev=$2; py=${3:-$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/python}
repo=$(realpath "$(dirname "$0")/../..")
mkdir -p "$dir/run"
git clone -q "$repo" "$dir/code" && git -C "$dir/code" checkout -q "$rev"
echo 1 > "$dir/run/n"
cat > "$dir/run/env" <<ENV
export PYTHONPATH=$dir/code
export DATABASE_URL=sqlite+aiosqlite:///$dir/run/bot.db
export HANDBOOK_DIR=$dir/code/knowledge/data
ENV
(cd "$dir/run" && . ./env && "$py" -m bot staff import "$dir/code/examples/rota.yaml" >/dev/null)
cat > "$dir/say" <<SAY
#!/usr/bin/env bash
# say 'message' — one message as the current resident; say reset — a new resident.
cd "$dir/run" && . ./env
if [ "\${1:-}" = reset ]; then n=\$((\$(cat n) + 1)); echo \$n > n; echo "(new resident \$n)"; exit 0; fi
printf '%s\n' "\$*" | "$py" -m bot chat --resident "trial-\$(cat n)" 2>/dev/null
SAY
chmod +x "$dir/say"
sed "s#TRIAL_DIR#$dir#g" "$repo/benchmarks/blind/TRIAL.md" > "$dir/TRIAL.md"
echo "$dir ready at $(git -C "$dir/code" rev-parse --short HEAD)"
