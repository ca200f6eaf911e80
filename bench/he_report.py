"""Summary, Markdown table and plot of a HumanEval run of ``bench/humaneval.py``.

Decisions:

* Every number is derived from the per-problem rows, so a partial or resumed
  run reports exactly what it holds.  A mode that errored on a problem counts
  as failed there, with its tokens (if any) still counted.
* "tokens per solved problem" is all tokens the mode spent (on solved and
  unsolved problems alike) divided by the problems it solved: the price of one
  success.
* "unusable replies" counts every reply a parser (candidate, tests, critic)
  rejected, re-asks included, from the job traces (``model_parse_error`` and
  ``model_error`` records of kind ``parse``), per mode and per model call;
  rows of older runs without them count as unknown (–).
* Pairwise: for every two modes A, B, the problems solved by A only, by B
  only, by both and by neither.
* Status agreement, for modes that report a status (best-of-N, loop): how
  often ``passed`` came with passing official tests (precision), how often a
  status other than ``passed`` came with failing official tests, and the share
  of problems where the two agreed.
* The plot shows, per mode, the share of problems solved within a token
  budget (a problem counts when it is solved and its mode spent at most that
  many tokens on it), so its right end is pass@1 and its slope shows where the
  tokens go; a marker sits at the mean tokens per problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {"single": "single-shot", "best": "best-of-N", "loop": "loop"}
STATUS_MODES = ("best", "loop")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def summarize_mode(rows: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    items = [r[mode] for r in rows if mode in r]
    n = len(items)
    solved = sum(bool(i["passed"]) for i in items)
    tokens = sum(i.get("tokens", 0) for i in items)
    out: dict[str, Any] = {
        "problems": n,
        "solved": solved,
        "pass_at_1": round(solved / n, 4) if n else None,
        "errors": sum(bool(i.get("error")) for i in items),
        "tokens_total": tokens,
        "prompt_tokens_total": sum(i.get("prompt_tokens", 0) for i in items),
        "completion_tokens_total": sum(i.get("completion_tokens", 0) for i in items),
        "tokens_per_problem": round(tokens / n, 1) if n else None,
        "tokens_per_solved": round(tokens / solved, 1) if solved else None,
        "calls_per_problem": round(sum(i.get("calls", 0) for i in items) / n, 2) if n else None,
        "seconds_per_problem": round(sum(i.get("seconds", 0.0) for i in items) / n, 2) if n else None,
        "seconds_total": round(sum(i.get("seconds", 0.0) for i in items), 1),
    }
    known = [i for i in items if "unusable_replies" in i]
    out["unusable_replies"] = sum(i["unusable_replies"] for i in known) if known else None
    out["unusable_final"] = sum(i.get("unusable_final", 0) for i in known) if known else None
    calls_known = sum(i.get("calls", 0) for i in known)
    out["unusable_per_call"] = round(out["unusable_replies"] / calls_known, 3) if known and calls_known else None
    decisions: dict[str, int] = {}
    for i in items:
        for step, k in (i.get("decisions") or {}).items():
            decisions[step] = decisions.get(step, 0) + k
    out["decisions"] = decisions
    out["duplicates"] = sum(i.get("duplicates", 0) for i in items)
    out["samples_per_problem"] = round(sum(i.get("samples", 0) for i in known) / len(known), 2) if known else None
    if mode in STATUS_MODES and n:
        claimed = [i for i in items if i.get("status") == "passed"]
        others = [i for i in items if i.get("status") != "passed"]
        out["status_passed"] = len(claimed)
        out["status_passed_and_official"] = sum(bool(i["passed"]) for i in claimed)
        out["status_precision"] = (round(out["status_passed_and_official"] / len(claimed), 3)
                                   if claimed else None)
        out["status_other_and_official_fail"] = sum(not i["passed"] for i in others)
        out["status_agreement"] = round((out["status_passed_and_official"]
                                         + out["status_other_and_official_fail"]) / n, 3)
        out["iterations_mean"] = round(_mean([i.get("iterations", 0) for i in items]) or 0, 2)
    return out


CAUSES = (  # (label, substring of the error) in the order they are tried
    ("docstring rewritten", "docstring was changed"),
    ("code does not parse", "does not parse"),
    ("function defined twice", "more than once"),
    ("critic reply not JSON", "no JSON object"),
    ("critic reply not JSON", '"verdict"'),
    ("helper outside the function", "defined outside it"),
    ("model timeout", "did not answer within"),
    ("parameters changed", "parameters changed"),
    ("body left a stub", "still a stub"),
)


def failure_cause(item: dict[str, Any]) -> str:
    """Why a mode did not solve a problem, in a few words."""
    if item.get("passed"):
        return "solved"
    error = item.get("error") or ""
    if not error:
        return "wrong code (official tests fail)"
    return next((label for label, needle in CAUSES if needle in error), "other error")


def summarize(rows: list[dict[str, Any]], modes: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {m: summarize_mode(rows, m) for m in modes}
    for m in modes:
        causes: dict[str, int] = {}
        for r in rows:
            if m in r:
                cause = failure_cause(r[m])
                causes[cause] = causes.get(cause, 0) + 1
        summary[m]["outcomes"] = dict(sorted(causes.items(), key=lambda kv: -kv[1]))
    base = "single" if "single" in summary else None
    if base:
        summary["over_single"] = {m: {k: _ratio(summary[m][k], summary[base][k]) for k in
                                      ("pass_at_1", "tokens_per_problem", "tokens_per_solved",
                                       "calls_per_problem", "seconds_per_problem")}
                                  for m in modes if m != base}
        if "loop" in summary:
            summary["loop_over_single"] = summary["over_single"]["loop"]
    pairs = {}
    for x, a in enumerate(modes):
        for b in modes[x + 1:]:
            both = [r for r in rows if a in r and b in r]
            pairs[f"{a}:{b}"] = {
                "a": a, "b": b, "problems": len(both),
                "both": sum(bool(r[a]["passed"] and r[b]["passed"]) for r in both),
                "a_only": sum(bool(r[a]["passed"] and not r[b]["passed"]) for r in both),
                "b_only": sum(bool(r[b]["passed"] and not r[a]["passed"]) for r in both),
                "neither": sum(bool(not r[a]["passed"] and not r[b]["passed"]) for r in both),
            }
    summary["pairs"] = pairs
    if "single:loop" in pairs:
        p = pairs["single:loop"]
        summary["paired"] = {"both": p["both"], "single_only": p["a_only"], "loop_only": p["b_only"],
                             "neither": p["neither"]}
    every = [r for r in rows if all(m in r for m in modes)]
    if len(modes) > 1:
        summary["any_mode_solved"] = sum(any(r[m]["passed"] for m in modes) for r in every)
    return summary


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "–"
    if pct:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _settings_line(data: dict[str, Any], mode: str) -> str:
    st = (data.get("mode_settings") or {}).get(mode) or data.get("settings") or {}
    if mode == "single":
        return f"one generate call at temperature {st.get('temperature', '–')}"
    parts = [f"candidates {st.get('candidates')}", f"max_iterations {st.get('max_iterations')}",
             f"model tests {'on' if st.get('model_tests') else 'off'}", f"critic {'on' if st.get('critic') else 'off'}",
             f"temperature {st.get('temperature')} then {st.get('sample_temperature', '–')}",
             f"token budget {st.get('token_budget')}"]
    return ", ".join(parts)


def markdown(data: dict[str, Any]) -> str:
    summary, modes = data.get("summary", {}), data.get("modes", [])
    mach = data.get("machine", {})
    rows = data.get("problems", [])
    first, last = (rows[0]["task_id"], rows[-1]["task_id"]) if rows else ("–", "–")
    lines = [
        f"HumanEval, {len(rows)} problems ({first} … {last}); model `{data.get('model')}`; "
        f"{(data.get('date') or '')[:10]}; machine {mach.get('arch')}, {mach.get('cores')} cores, "
        f"Python {mach.get('python')}.",
        "",
    ]
    engines = data.get("engine") or []
    if engines:
        seen = sorted({f"{e.get('commit')}{'+dirty' if e.get('server_dirty') else ''}" for e in engines})
        lines += [f"Engine: {', '.join(seen)} (the commit of the tree each (resumed) run started from).", ""]
    lines += [f"* {LABELS.get(m, m)}: {_settings_line(data, m)}" for m in modes]
    lines += [
        "",
        "| mode | pass@1 | solved | tokens / problem | tokens / solved | model calls / problem "
        "| wall s / problem | unusable replies (per call) | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in modes:
        s = summary.get(m, {})
        unusable = ("–" if s.get("unusable_replies") is None
                    else f"{s['unusable_replies']} ({_fmt(s.get('unusable_per_call'), True)})")
        lines.append(f"| {LABELS.get(m, m)} | {_fmt(s.get('pass_at_1'), True)} | {s.get('solved')}/{s.get('problems')} "
                     f"| {_fmt(s.get('tokens_per_problem'))} | {_fmt(s.get('tokens_per_solved'))} "
                     f"| {_fmt(s.get('calls_per_problem'))} | {_fmt(s.get('seconds_per_problem'))} "
                     f"| {unusable} | {s.get('errors')} |")
    for m, ratio in (summary.get("over_single") or {}).items():
        lines.append(f"| {LABELS.get(m, m)} / single-shot | {_fmt(ratio['pass_at_1'])}× | "
                     f"| {_fmt(ratio['tokens_per_problem'])}× | {_fmt(ratio['tokens_per_solved'])}× "
                     f"| {_fmt(ratio['calls_per_problem'])}× | {_fmt(ratio['seconds_per_problem'])}× | | |")
    pairs = summary.get("pairs") or {}
    if pairs:
        lines += ["", "| pair (A vs B) | problems | solved by both | A only | B only | neither |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for p in pairs.values():
            lines.append(f"| {LABELS.get(p['a'], p['a'])} vs {LABELS.get(p['b'], p['b'])} | {p['problems']} "
                         f"| {p['both']} | {p['a_only']} | {p['b_only']} | {p['neither']} |")
        if "any_mode_solved" in summary:
            lines += ["", f"Solved by at least one mode: {summary['any_mode_solved']}."]
    labels = sorted({c for m in modes for c in summary.get(m, {}).get("outcomes", {})},
                    key=lambda c: (c != "solved", c))
    if labels:
        lines += ["", "| outcome | " + " | ".join(LABELS.get(m, m) for m in modes) + " |",
                  "| --- |" + " ---: |" * len(modes)]
        for c in labels:
            lines.append(f"| {c} | " + " | ".join(str(summary.get(m, {}).get("outcomes", {}).get(c, 0))
                                                   for m in modes) + " |")
    status_modes = [m for m in modes if "status_passed" in summary.get(m, {})]
    if status_modes:
        lines += ["", "| mode | status `passed` | … and official tests pass (precision) "
                      "| other status and official tests fail | agreement | mean iterations "
                      "| samples / problem | repairs | resamples | duplicates |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for m in status_modes:
            s = summary[m]
            d = s.get("decisions") or {}
            lines.append(f"| {LABELS.get(m, m)} | {s['status_passed']} | {s['status_passed_and_official']} "
                         f"({_fmt(s['status_precision'])}) | {s['status_other_and_official_fail']} "
                         f"| {_fmt(s['status_agreement'], True)} | {s['iterations_mean']} "
                         f"| {_fmt(s.get('samples_per_problem'))} | {d.get('repair', 0)} "
                         f"| {d.get('resample', 0)} | {s.get('duplicates', 0)} |")
    return "\n".join(lines) + "\n"


def write_markdown(data: dict[str, Any], path: Path) -> None:
    Path(path).write_text(markdown(data), encoding="utf-8")


def write_plot(data: dict[str, Any], path: Path) -> None:
    """Pass rate against tokens spent, one curve per mode (PNG, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data.get("problems", [])
    modes = data.get("modes", [])
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    top = max([r[m].get("tokens", 0) for r in rows for m in modes if m in r] or [1])
    for mode, color in zip(modes, ("tab:blue", "tab:green", "tab:orange", "tab:red")):
        items = [r[mode] for r in rows if mode in r]
        if not items:
            continue
        n = len(items)
        costs = sorted(i.get("tokens", 0) for i in items if i["passed"])
        xs, ys = [0], [0.0]
        for k, c in enumerate(costs, 1):
            xs += [c, c]
            ys += [ys[-1], k / n]
        xs.append(top)
        ys.append(ys[-1])
        s = summarize_mode(rows, mode)
        ax.plot(xs, [100 * y for y in ys], color=color,
                label=f"{LABELS.get(mode, mode)}: pass@1 {100 * (s['pass_at_1'] or 0):.1f}%")
        ax.scatter([s["tokens_per_problem"]], [100 * (s["pass_at_1"] or 0)], color=color, marker="o", zorder=3)
        ax.annotate("mean tokens", (s["tokens_per_problem"], 100 * (s["pass_at_1"] or 0)),
                    textcoords="offset points", xytext=(4, -12), fontsize=7, color=color)
    ax.set_xlabel("tokens spent on the problem (prompt + completion)")
    ax.set_ylabel("problems solved within that many tokens (%)")
    ax.set_title(f"HumanEval ({len(rows)} problems), {data.get('model')}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
