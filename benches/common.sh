# Shared by the benchmark scripts (sourced, not run): the DuckDB venv and the generated JTL
# input. The caller defines OUT (bench-out/), ROOT (the repository) and `say`.

# Creates or reuses $OUT/venv with duckdb; sets VENV, PY and DUCK_VERSION.
ensure_duckdb_venv() {
    VENV=$OUT/venv
    PY=$VENV/bin/python
    if ! "$PY" -c 'import duckdb' 2>/dev/null; then
        say "creating $VENV with duckdb"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip >/dev/null
        "$VENV/bin/pip" install -q duckdb
    fi
    DUCK_VERSION=$("$PY" -c 'import duckdb; print(duckdb.__version__)')
}

# ensure_jtl_csv FILE ROWS: generates the JMeter 5.x CSV unless it is already there.
ensure_jtl_csv() {
    if [[ ! -s $1 ]]; then
        say "generating $1"
        "$PY" "$ROOT/benches/gen_jtl.py" "$2" -o "$1"
    fi
}

# ensure_each_files DIR FILES ROWS: DIR/part-NNNN.csv, FILES files of a header and ROWS rows
# each, cut in order from one generated CSV (so every file has its own bytes), unless there.
ensure_each_files() {
    local dir=$1 files=$2 rows=$3
    [[ -s $dir/part-$(printf %04d $((files - 1))).csv ]] && return
    say "cutting $files files of $rows rows into $dir"
    rm -rf -- "$dir" && mkdir -p "$dir"
    "$PY" "$ROOT/benches/gen_jtl.py" $((files * rows)) --seed 18 -o "$dir/all.csv" >/dev/null
    "$PY" - "$dir" "$files" "$rows" <<'EOF'
import sys
d, files, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{d}/all.csv") as f:
    header = f.readline()
    for n in range(files):
        with open(f"{d}/part-{n:04d}.csv", "w") as out:
            out.write(header)
            for _ in range(rows):
                out.write(f.readline())
EOF
    rm -- "$dir/all.csv"
}

# Timed rounds append "NAME wall_s cpu_s rss_kb" lines to $LOGDIR/times (the caller sets LOGDIR).
median() {  # median NAME FIELD(2 wall, 3 cpu, 4 rss)
    awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$LOGDIR/times" | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# calc FORMAT EXPR: EXPR computed by awk, printed with FORMAT
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }  # jiffies
