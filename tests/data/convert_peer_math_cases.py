"""Build tests/data/peer_math_cases.jsonl from other projects' own labelled grader test cases.

Reads the suites' files out of local git clones (no network) and writes one JSON line per case:
`source` (repository), `commit`, `path`, `case` (the case's id there), `gold`, `response`, `expected`
(1 equivalent, 0 not), and `excluded` (why a case does not count: its label depends on a non-default
setting of the peer's grader, or is doubtful) or null.

Usage: python tests/data/convert_peer_math_cases.py --repos DIR
where DIR holds bare or normal clones named owner+name/repo (what the search tool's fetch leaves) or
owner/name. Rerunning it on the same commits reproduces the file byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from pathlib import Path

OUT = Path(__file__).with_name("peer_math_cases.jsonl")

MATH_VERIFY_FILES = [
    "tests/test_all.py",
    "tests/test_boxed.py",
    "tests/test_numina_cases.py",
    "tests/test_open_thoughts.py",
    "tests/test_yujianll.py",
    "tests/test_strict.py",
]
# compare_strings(...) keyword arguments that differ from what plain parse()/verify() do.
DEFAULTS = {"precision": 6, "strict": True, "allow_set_relation_comp": False}

# Labels that pin a quirk rather than mathematics, found by reading each case.
DOUBTFUL = {
    ("tests/test_yujianll.py", 9): "1 - 1/e and 1 + 1/e differ; the label pins a math-verify quirk",
    ("tests/test_all.py::test_number_extraction", 5): "decimal comma: 1000,99 as 1000.99 is a locale guess",
    ("tests/test_all.py::test_number_extraction", 6): "decimal comma: 1,22 as 1.22 is a locale guess",
    ("tests/test_all.py::test_number_extraction", 7): "decimal comma: 2,74 as 2.74 is a locale guess",
    ("tests/test_all.py::test_number_extraction", 17): "decimal comma: 0,111 as 0.111 is a locale guess",
    (
        "tests/test_all.py::test_latex_notation",
        9,
    ): "the answer is the false equation 1/2 $ = 10/9; the label pins reading its right side",
}
QWEN_DOUBTFUL = {
    ("\\frac{100}{3}", "33.3"): "33.3 is 100/3 rounded; Qwen's grader accepts it by tolerance",
    ("(0.6,2.6667]", "(\\frac{3}{5},\\frac{8}{3}]"): "2.6667 is 8/3 rounded; equal only by tolerance",
    (
        "\\begin{pmatrix}0.290243531202435\\\\0.196008371385084\\\\-0.186381278538813\\end{pmatrix}",
        "(\\begin{pmatrix}0.29\\\\0.196\\\\-0.186\\\\\\end{pmatrix})",
    ): "the gold entries are rounded to 2-3 digits; equal only by tolerance",
}
# Qwen2.5-Math's grader has no labelled tests, only the pairs its author debugged, commented out in
# _test_math_equal(). Those marked "equal" are the pairs it set out to accept; the rest are equal by
# no reading (the author's own (pred, gt) comments show them as near-misses).
QWEN_NOT_EQUAL = {
    ("(+5)(b+2)", "(a+5)(b+2)"),
    ("\\frac{1+\\sqrt{5}}{2}", "2"),
    ("1", "1\\\\sqrt{19}"),
    ("\\frac{34}{16}+\\frac{\\sqrt{1358}}{16}", "4"),
    ("x+1", "x+2n+1"),
}


def git_show(repo: Path, path: str) -> tuple[str, str]:
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    text = subprocess.run(
        ["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True, check=True
    ).stdout
    return commit, text


def find_repo(root: Path, name: str) -> Path:
    owner, repo = name.split("/")
    for candidate in (root / f"{owner}+{repo}" / "repo", root / owner / repo, root / repo):
        if candidate.exists():
            return candidate
    raise SystemExit(f"no clone of {name} under {root}")


def _kwargs_of_compare(func: ast.FunctionDef) -> dict:
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "compare_strings":
            return {k.arg: k.value for k in node.keywords}
    return {}


def math_verify_cases(repo: Path) -> list[dict]:
    cases = []
    for path in MATH_VERIFY_FILES:
        commit, source = git_show(repo, path)
        tree = ast.parse(source)
        for func in [n for n in tree.body if isinstance(n, ast.FunctionDef)]:
            marks = [
                d
                for d in func.decorator_list
                if isinstance(d, ast.Call) and "parametrize" in ast.unparse(d.func)
            ]
            if not marks:
                continue
            names = [n.strip() for n in ast.literal_eval(marks[0].args[0]).split(",")]
            params = marks[0].args[1]
            kwargs = _kwargs_of_compare(func)
            match_types = (
                ast.literal_eval(kwargs["match_types"]) if "match_types" in kwargs else ["latex", "expr"]
            )
            for index, element in enumerate(params.elts):
                values = dict(
                    zip(
                        names,
                        (
                            eval(compile(ast.Expression(e), path, "eval"), {"math": __import__("math")})
                            for e in element.elts
                        ),
                    )
                )
                if "pred" not in values or "gold" not in values:
                    continue
                expected = values.get("expected", values.get("result"))
                settings = {}
                for key, default in DEFAULTS.items():
                    value = values.get(key)
                    if value is None and key in kwargs:
                        value = ast.literal_eval(kwargs[key])
                    if value is not None and value != default:
                        settings[key] = value
                case_id = f"{path}::{func.name}[{index}]"
                excluded = None
                if settings:
                    excluded = "non-default setting: " + ", ".join(f"{k}={v}" for k, v in settings.items())
                doubt = DOUBTFUL.get((f"{path}::{func.name}", index)) or DOUBTFUL.get((path, index))
                if doubt:
                    excluded = "doubtful: " + doubt
                cases.append(
                    {
                        "source": "huggingface/Math-Verify",
                        "commit": commit,
                        "path": path,
                        "case": case_id,
                        "gold": values["gold"],
                        "response": values["pred"],
                        "expected": int(expected),
                        "peer_setting": "match_types=" + "+".join(match_types),
                        "excluded": excluded,
                    }
                )
    return cases


def hendrycks_cases(repo: Path) -> list[dict]:
    path = "modeling/math_equivalence_test.py"
    commit, source = git_show(repo, path)
    cases = []
    for func in ast.walk(ast.parse(source)):
        if not (isinstance(func, ast.FunctionDef) and func.name.startswith("test")):
            continue
        values = {}
        for stmt in func.body:
            if isinstance(stmt, ast.Assign):
                values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                expected = {"assertTrue": 1, "assertFalse": 0}[stmt.value.func.attr]
        cases.append(
            {
                "source": "hendrycks/math",
                "commit": commit,
                "path": path,
                "case": f"{path}::{func.name}",
                "gold": values["test_in"],
                "response": values["test_out"],
                "expected": expected,
                "peer_setting": "is_equiv",
                "excluded": None,
            }
        )
    return cases


def qwen_cases(repo: Path) -> list[dict]:
    path = "evaluation/grader.py"
    commit, source = git_show(repo, path)
    body = source.split("def _test_math_equal():", 1)[1].split('if __name__ == "__main__":', 1)[0]
    pairs: list[tuple[str, str, str]] = []
    pending: dict[str, str] = {}
    for number, raw in enumerate(body.splitlines()):
        line = raw.strip().lstrip("#").strip()
        if line.startswith("print(math_equal(") and "timeout" not in line.split(",", 2)[-1][:0]:
            call = ast.parse(line).body[0].value.args[0]
            if len(call.args) >= 2 and all(isinstance(a, ast.Constant) for a in call.args[:2]):
                pairs.append((f"{path}::_test_math_equal:L{number}", call.args[0].value, call.args[1].value))
            continue
        for statement in line.split(", "):
            if statement.startswith(("pred", "gt")) and "=" in statement:
                key, _, value = statement.partition("=")
                try:
                    pending[key.strip()] = ast.literal_eval(value.strip())
                except (SyntaxError, ValueError):
                    continue
        if "pred" in pending and "gt" in pending:
            pairs.append((f"{path}::_test_math_equal:L{number}", pending.pop("pred"), pending.pop("gt")))
    cases = []
    for case_id, pred, gold in pairs:
        doubt = QWEN_DOUBTFUL.get((pred, gold))
        cases.append(
            {
                "source": "QwenLM/Qwen2.5-Math",
                "commit": commit,
                "path": path,
                "case": case_id,
                "gold": gold,
                "response": pred,
                "expected": int((pred, gold) not in QWEN_NOT_EQUAL),
                "peer_setting": "math_equal",
                "excluded": "doubtful: " + doubt if doubt else None,
            }
        )
    return cases


def verl_cases(repo: Path) -> list[dict]:
    path = "tests/utils/reward_score/test_sandbox_on_cpu.py"
    commit, source = git_show(repo, path)
    lists = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and node.targets[0].id in ("prime_math_answers", "prime_math_gts"):
            lists[node.targets[0].id] = ast.literal_eval(node.value)
    return [
        {
            "source": "volcengine/verl",
            "commit": commit,
            "path": path,
            "case": f"{path}::test_prime_math[{i}]",
            "gold": gold,
            "response": answer,
            "expected": 1,
            "peer_setting": "prime_math",
            "excluded": None,
        }
        for i, (answer, gold) in enumerate(zip(lists["prime_math_answers"], lists["prime_math_gts"]))
    ]


def areal_cases(repo: Path) -> list[dict]:
    path = "tests/test_math_verify_reward.py"
    commit, source = git_show(repo, path)
    cases = []
    for cls in ast.parse(source).body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for func in cls.body:
            if not isinstance(func, ast.FunctionDef):
                continue
            call = next(
                (n for n in ast.walk(func) if isinstance(n, ast.Call) and "reward_fn" in ast.unparse(n.func)),
                None,
            )
            check = next((n for n in ast.walk(func) if isinstance(n, ast.Assert)), None)
            if call is None or check is None or not isinstance(check.test, ast.Compare):
                continue
            kw = {k.arg: k.value for k in call.keywords}
            try:
                completion = ast.literal_eval(kw["completions"])
                answer = ast.literal_eval(kw["answer"])
                expected = ast.literal_eval(check.test.comparators[0])
            except (KeyError, ValueError):
                continue
            fn = ast.unparse(call.func)
            excluded = None
            if answer is None:
                excluded = "non-default setting: a gold of None (rlvr refuses it as an error)"
            cases.append(
                {
                    "source": "inclusionAI/AReaL",
                    "commit": commit,
                    "path": path,
                    "case": f"{path}::{cls.name}::{func.name}",
                    "gold": answer,
                    "response": completion,
                    "expected": int(expected == 1.0),
                    "peer_setting": fn,
                    "excluded": excluded,
                }
            )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=Path, required=True, help="folder holding the peers' clones")
    args = parser.parse_args()
    cases = (
        math_verify_cases(find_repo(args.repos, "huggingface/Math-Verify"))
        + hendrycks_cases(find_repo(args.repos, "hendrycks/math"))
        + qwen_cases(find_repo(args.repos, "QwenLM/Qwen2.5-Math"))
        + verl_cases(find_repo(args.repos, "volcengine/verl"))
        + areal_cases(find_repo(args.repos, "inclusionAI/AReaL"))
    )
    with open(OUT, "w") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    counted = sum(c["excluded"] is None for c in cases)
    print(f"wrote {len(cases)} cases ({counted} counted, {len(cases) - counted} listed as excluded) to {OUT}")


if __name__ == "__main__":
    main()
