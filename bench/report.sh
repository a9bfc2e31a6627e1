#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the benchmarks and writes docs/BENCHMARKS.md: a summary at the top, then per benchmark its
# targets, tables and plots (SVG, gnuplot, docs/bench/<name>-<plot>.svg). A benchmark takes part
# by writing machine-readable results when BENCH_OUT is set; the format is in bench/README.md.
#
#   bench/report.sh [NAME...]      run these benchmarks (default: every bench/*/run.sh), then render
#   bench/report.sh --render       render docs/ again from the stored results, run nothing
#   env: QUICK=1 (small sizes, passed to each benchmark); BENCHES="dns attach" (same as NAMEs)
#
# Each run's results are kept as docs/bench/<name>.tsv (committed with the page), so that the
# sections of benchmarks not run this time stay as they were. A benchmark that fails keeps its
# previous results; the run then ends with status 1 and names it. Logs: build/bench/<name>.log.
# Everything between "<!-- bench:NAME:begin" and "<!-- bench:NAME:end -->" in the page is
# generated; the rest of the page (prose) is kept as it is.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
TOP=$(cd "$(dirname "$0")/.." && pwd)
DOC=${DOC:-$TOP/docs/BENCHMARKS.md}
STORE=${STORE:-$TOP/docs/bench}
LOGS=${LOGS:-$TOP/build/bench}
QUICK=${QUICK:-0}

die() { printf 'report: %s\n' "$*" >&2; exit 1; }

RENDER_ONLY=0
names=()
for a in "$@"; do
	case $a in
	--render) RENDER_ONLY=1 ;;
	-h|--help) sed -n '3,16p' "$0"; exit 0 ;;
	*) names+=("$a") ;;
	esac
done
[ ${#names[@]} -eq 0 ] && [ -n "${BENCHES:-}" ] && read -ra names <<< "$BENCHES"
if [ ${#names[@]} -eq 0 ]; then
	for d in "$TOP"/bench/*/run.sh; do names+=("$(basename "$(dirname "$d")")"); done
fi
command -v gnuplot > /dev/null || die "gnuplot is needed: apt-get install gnuplot-nox (or BERTH_BENCH_DEPS=1 scripts/install-deps.sh)"
command -v python3 > /dev/null || die "python3 is needed"
mkdir -p "$STORE" "$LOGS"

# run_one NAME: runs bench/NAME/run.sh; on success its results replace docs/bench/NAME.tsv.
failed=() noresults=()
run_one() {
	local name=$1 out t0 rc commit
	[ -f "$TOP/bench/$name/run.sh" ] || die "no benchmark bench/$name/run.sh"
	out=$(mktemp -d)
	t0=$SECONDS
	printf '== %s (started %s, log %s)\n' "$name" "$(date +%H:%M:%S)" "$LOGS/$name.log"
	BENCH_OUT=$out QUICK=$QUICK bash "$TOP/bench/$name/run.sh" > "$LOGS/$name.log" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		printf '   FAILED (status %s) after %s s; last lines of its log:\n' "$rc" $((SECONDS - t0))
		tail -5 "$LOGS/$name.log" | sed 's/^/   | /'
		failed+=("$name")
	elif [ ! -s "$out/$name.tsv" ]; then
		printf '   done in %s s, no machine-readable results (see bench/README.md)\n' $((SECONDS - t0))
		noresults+=("$name")
	else
		# the commit timed; "-dirty" when the tree differs from it, leaving out this page and its
		# results (written by the report itself)
		commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
		git -C "$TOP" diff --quiet HEAD -- . ':!docs/BENCHMARKS.md' ':!docs/bench' 2>/dev/null ||
			commit=$commit-dirty
		{
			printf 'run\t%s\t%s\t%s\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" $((SECONDS - t0)) "$QUICK" "$commit"
			cat "$out/$name.tsv"
		} > "$STORE/$name.tsv"
		printf '   done in %s s\n' $((SECONDS - t0))
	fi
	rm -rf "$out"
}

if [ $RENDER_ONLY = 0 ]; then
	[ "$(id -u)" = 0 ] || die "run as root (the benchmarks create network namespaces)"
	[ -x "$TOP/build/berthd" ] || make -C "$TOP" -j2 all helpers > /dev/null || die "cannot build berth"
	for n in "${names[@]}"; do run_one "$n"; done
fi

python3 - "$DOC" "$STORE" <<'PY' || die "rendering failed"
import glob, os, re, subprocess, sys, tempfile

doc_path, store = sys.argv[1], sys.argv[2]
ORDER = ["attach", "publish", "dns", "cli"]   # the others follow in name order
COLORS = {"berth": "#1f4e9c", "kernel": "#7f7f7f", "floor": "#7f7f7f", "netavark": "#e07b00",
          "cni": "#2e8b57", "aardvark": "#c0392b", "dnsmasq": "#7d3c98", "docker": "#0db7ed"}
PALETTE = ["#e07b00", "#2e8b57", "#c0392b", "#7d3c98", "#8c564b", "#17becf", "#bcbd22"]


def load(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                recs.append(line.split("\t"))
    return recs


BERTH_SHADES = ["#1f4e9c", "#5b8fd9", "#9cc0f0"]


def colors(series):
    """A colour per series: each peer its own everywhere, berth's series in shades of blue."""
    out, berth = [], 0
    for i, s in enumerate(series):
        key = s.lower()
        if key.startswith("berth"):
            out.append(BERTH_SHADES[min(berth, len(BERTH_SHADES) - 1)])
            berth += 1
            continue
        out.append(next((c for k, c in COLORS.items() if key.startswith(k)), PALETTE[i % len(PALETTE)]))
    return out


def gp_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plot(name, pid, spec, points, workdir):
    kind, title, xlabel, ylabel = (spec + ["", "", "", ""])[:4]
    opts = set((spec[4] if len(spec) > 4 else "").split(","))
    series, xs = [], []
    for s, x, _ in points:
        if s not in series:
            series.append(s)
        if x not in xs:
            xs.append(x)
    svg = os.path.join(store, f"{name}-{pid}.svg")
    data = os.path.join(workdir, f"{name}-{pid}.dat")
    g = ['set terminal svg size 800,460 dynamic noenhanced font "Helvetica,13" background rgb "white"',
         f"set output {gp_str(svg)}", f"set title {gp_str(title)}", f"set xlabel {gp_str(xlabel)}",
         f"set ylabel {gp_str(ylabel)}", "set grid ytics",
         "set key below horizontal" if kind == "lines" else "set key outside right top",
         'set datafile separator "\\t"', 'set datafile missing "-"', "set border 3",
         "set xtics nomirror", "set ytics nomirror"]
    if "logy" in opts:
        ys = [float(y) for _, _, y in points if y not in ("-", "nan") and float(y) > 0]
        g += ["set logscale y", f"set yrange [{min(ys) / 2 if ys else 0.1}:*]"]
        if ys and max(ys) >= 1e5:
            g.append('set format y "%.0f"')
    else:
        g.append("set yrange [0:*]")
    col = colors(series)
    with open(data, "w") as f:
        if kind == "lines":
            for s in series:
                for _, x, y in (p for p in points if p[0] == s):
                    f.write(f"{x}\t{y}\n")
                f.write("\n\n")
            ticks = next((o[len("xticks="):].split(":") for o in opts if o.startswith("xticks=")), None)
            if ticks:   # the sizes the benchmark meant to reach, reached or not
                g.append(f"set xrange [{min(map(float, ticks)) * (0.8 if 'logx' in opts else 1)}:"
                         f"{max(map(float, ticks)) * (1.25 if 'logx' in opts else 1)}]")
            if "logx" in opts:
                g.append("set logscale x")
            if ticks or "logx" in opts:
                g.append("set xtics (" + ", ".join(f'"{x}" {x}' for x in sorted(ticks or xs, key=float)) + ")")
            g.append("set style data linespoints")
            g.append("plot " + ", ".join(
                f"{gp_str(data)} index {i} using 1:2 title {gp_str(s)} lw 2 pt 7 ps 0.8 lc rgb {gp_str(col[i])}"
                for i, s in enumerate(series)))
        else:
            for x in xs:
                row = [x] + [next((y for s2, x2, y in points if s2 == s and x2 == x), "-") for s in series]
                f.write("\t".join(row) + "\n")
            g += ["set style data histogram", "set style histogram clustered gap 1",
                  "set style fill solid 0.85 border -1", "set boxwidth 0.9", "set xtics scale 0"]
            g.append("plot " + ", ".join(
                (f"{gp_str(data)} using {i + 2}:xtic(1)" if i == 0 else f"'' using {i + 2}")
                + f" title {gp_str(s)} lc rgb {gp_str(col[i])}"
                for i, s in enumerate(series)))
    script = os.path.join(workdir, f"{name}-{pid}.gp")
    with open(script, "w") as f:
        f.write("\n".join(g) + "\n")
    subprocess.run(["gnuplot", script], check=True)
    return os.path.relpath(svg, os.path.dirname(os.path.abspath(doc_path)))


def md_table(caption, cols, rows):
    out = [f"**{caption}**", "", "| " + " | ".join(cols) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    for r in rows:
        r = r + [""] * (len(cols) - len(r))
        out.append("| " + " | ".join(r[:len(cols)]) + " |")
    return out + [""]


def render(name, recs, workdir):
    """The generated block of one benchmark, and its line for the summary."""
    run = next((r for r in recs if r[0] == "run"), None)
    title = next((r[1] for r in recs if r[0] == "title"), name)
    tables, plots, order = {}, {}, []
    for r in recs:
        if r[0] == "table":
            tables[r[1]] = (r[2], r[3:], [])
            order.append(("table", r[1]))
        elif r[0] == "row" and r[1] in tables:
            tables[r[1]][2].append(r[2:])
        elif r[0] == "plot":
            plots[r[1]] = (r[2:], [])
            order.append(("plot", r[1]))
        elif r[0] == "point" and r[1] in plots:
            plots[r[1]][1].append((r[2], r[3], r[4]))
    out = []
    when = ""
    if run:
        size = "quick size (QUICK=1)" if run[3] == "1" else "full size"
        when = f"{run[1]}, {size}"
        out += [f"*Last run: {run[1]}, commit {run[4]}, {int(run[2]) // 60} min {int(run[2]) % 60} s, {size}.*", ""]
    for r in recs:
        if r[0] == "note":
            out += [r[1], ""]
    for r in recs:
        if r[0] == "limit":
            out += [f"**Not measured: {r[1]}**", ""]
    verdicts = [r for r in recs if r[0] == "verdict"]
    if verdicts:
        out += ["| target | result |", "|---|---|"]
        for v in verdicts:
            mark = {"PASS": "**PASS**", "MISS": "**MISS**"}.get(v[1], "")
            out.append(f"| {v[2]} | {mark} |")
        out.append("")
    for kind, i in order:
        if kind == "table":
            cap, cols, rows = tables[i]
            out += md_table(cap, cols, rows)
        elif plots[i][1]:
            spec, points = plots[i]
            rel = plot(name, i, spec, points, workdir)
            out += [f"![{spec[1]}]({rel})", ""]
    npass = sum(1 for v in verdicts if v[1] == "PASS")
    nmiss = sum(1 for v in verdicts if v[1] == "MISS")
    glance = "<br>".join([r[1] for r in recs if r[0] == "glance"] +
                         [f"not measured: {r[1]}" for r in recs if r[0] == "limit"])
    targets = f"{npass} PASS, {nmiss} MISS" if npass + nmiss else "—"
    anchor = re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")
    summary = f"| [{title}](#{anchor}) | {glance} | {targets} | {when} |"
    return title, out, summary


def replace_block(text, key, body, heading):
    begin = f"<!-- bench:{key}:begin (generated by bench/report.sh; edits here are lost) -->"
    end = f"<!-- bench:{key}:end -->"
    pat = re.compile(re.escape(f"<!-- bench:{key}:begin") + r".*?" + re.escape(end), re.S)
    block = begin + "\n" + "\n".join(body).rstrip() + "\n" + end
    if pat.search(text):
        return pat.sub(lambda _: block, text)
    return text.rstrip() + f"\n\n## {heading}\n\n" + block + "\n"


names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(store, "*.tsv")))
names = [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]
text = open(doc_path, encoding="utf-8").read() if os.path.exists(doc_path) else "# Benchmarks\n"
summaries = []
with tempfile.TemporaryDirectory() as work:
    for n in names:
        title, body, summary = render(n, load(os.path.join(store, n + ".tsv")), work)
        text = replace_block(text, n, body, title)
        summaries.append(summary)
glance = ["## At a glance", "",
          "Where berth stands, from the last run of each benchmark (details and plots below).", "",
          "| benchmark | berth against its peers | targets | last run |", "|---|---|---|---|"] + summaries
key = "<!-- bench:glance:begin"
if key not in text:   # first time: right after the page's introduction (before its first section)
    m = re.search(r"^## ", text, re.M)
    block = key + " -->\n<!-- bench:glance:end -->\n\n"
    text = text[:m.start()] + block + text[m.start():] if m else text + "\n" + block
text = replace_block(text, "glance", glance, "At a glance")
with open(doc_path, "w", encoding="utf-8") as f:
    f.write(text)
print(f"report: {doc_path} written ({len(names)} benchmark(s)); plots in {store}")
PY

[ ${#noresults[@]} -gt 0 ] && printf 'report: no machine-readable results from: %s\n' "${noresults[*]}"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'report: FAILED: %s (their sections keep the previous results; logs in %s)\n' "${failed[*]}" "$LOGS"
	exit 1
fi
exit 0
