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
