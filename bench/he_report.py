"""Summary, Markdown table and plot of a HumanEval run of ``bench/humaneval.py``.

Decisions:

* Every number is derived from the per-problem rows, so a partial or resumed
  run reports exactly what it holds.  A mode that errored on a problem counts
  as failed there, with its tokens (if any) still counted.
* "tokens per solved problem" is all tokens the mode spent (on solved and
  unsolved problems alike) divided by the problems it solved: the price of one
  success.
* The plot shows, per mode, the share of problems solved within a token
  budget (a problem counts when it is solved and its mode spent at most that
  many tokens on it), so its right end is pass@1 and its slope shows where the
  tokens go; a marker sits at the mean tokens per problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {"single": "single-shot", "loop": "loop"}


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
    if mode == "loop" and n:
        claimed = [i for i in items if i.get("status") == "passed"]
        out["status_passed"] = len(claimed)
        out["status_passed_and_official"] = sum(bool(i["passed"]) for i in claimed)
        out["status_precision"] = (round(out["status_passed_and_official"] / len(claimed), 3)
                                   if claimed else None)
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
    if "single" in summary and "loop" in summary:
        s, lp = summary["single"], summary["loop"]
        summary["loop_over_single"] = {k: _ratio(lp[k], s[k]) for k in
                                       ("pass_at_1", "tokens_per_problem", "tokens_per_solved",
                                        "calls_per_problem", "seconds_per_problem")}
        both = [r for r in rows if "single" in r and "loop" in r]
        summary["paired"] = {
            "both": sum(r["single"]["passed"] and r["loop"]["passed"] for r in both),
            "single_only": sum(r["single"]["passed"] and not r["loop"]["passed"] for r in both),
            "loop_only": sum(r["loop"]["passed"] and not r["single"]["passed"] for r in both),
            "neither": sum(not r["single"]["passed"] and not r["loop"]["passed"] for r in both),
        }
    return summary


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "–"
    if pct:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


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
        "| mode | pass@1 | solved | tokens / problem | tokens / solved | model calls / problem "
        "| wall s / problem | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in modes:
        s = summary.get(m, {})
        lines.append(f"| {LABELS.get(m, m)} | {_fmt(s.get('pass_at_1'), True)} | {s.get('solved')}/{s.get('problems')} "
                     f"| {_fmt(s.get('tokens_per_problem'))} | {_fmt(s.get('tokens_per_solved'))} "
                     f"| {_fmt(s.get('calls_per_problem'))} | {_fmt(s.get('seconds_per_problem'))} "
                     f"| {s.get('errors')} |")
    ratio = summary.get("loop_over_single")
    if ratio:
        lines.append(f"| loop / single-shot | {_fmt(ratio['pass_at_1'])}× | | {_fmt(ratio['tokens_per_problem'])}× "
                     f"| {_fmt(ratio['tokens_per_solved'])}× | {_fmt(ratio['calls_per_problem'])}× "
                     f"| {_fmt(ratio['seconds_per_problem'])}× | |")
    paired, loop = summary.get("paired"), summary.get("loop")
    if paired:
        lines += ["", f"Paired: solved by both {paired['both']}, only single-shot {paired['single_only']}, "
                      f"only the loop {paired['loop_only']}, neither {paired['neither']}."]
    labels = sorted({c for m in modes for c in summary.get(m, {}).get("outcomes", {})},
                    key=lambda c: (c != "solved", c))
    if labels:
        lines += ["", "| outcome | " + " | ".join(LABELS.get(m, m) for m in modes) + " |",
                  "| --- |" + " ---: |" * len(modes)]
        for c in labels:
            lines.append(f"| {c} | " + " | ".join(str(summary.get(m, {}).get("outcomes", {}).get(c, 0))
                                                   for m in modes) + " |")
    if loop and "status_passed" in loop:
        lines += ["", f"The loop reported `passed` on {loop['status_passed']} problems; the official tests agreed on "
                      f"{loop['status_passed_and_official']} of them (precision {_fmt(loop['status_precision'])}). "
                      f"Mean attempts per problem: {loop['iterations_mean']}."]
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
    for mode, color in zip(modes, ("tab:blue", "tab:orange", "tab:green")):
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
