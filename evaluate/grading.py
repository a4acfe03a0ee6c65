"""Grade stored samples with their problems' columns: the one path `eval` and `regrade` share."""

from __future__ import annotations

import inspect

GRADER_COLUMNS = ("answer", "tests", "entry_point")


def grade_records(grader, records: list[dict], problems: dict[str, dict]) -> None:
    """Fill `extracted`, `verdict`, `correct` of each record in place; `problems` maps id -> stored row.
    A grader whose `grade` takes `prompt` also gets the prompt each sample answered (as in training)."""
    if not records:
        return  # nothing to grade (an --allow-partial regrade of a store killed before its first sample)
    keys = GRADER_COLUMNS + (("prompt",) if "prompt" in inspect.signature(grader.grade).parameters else ())
    columns: dict[str, list] = {}
    for record in records:
        problem = problems[str(record["problem"])]
        for key in keys:
            if key in problem:
                columns.setdefault(key, []).append(problem[key])
    for record, grade in zip(records, grader.grade([r["text"] for r in records], **columns)):
        record.update(extracted=grade.extracted, verdict=grade.verdict, correct=grade.correct)
