"""Skill fit alone: `python -m benchmarks.skill_fit [--whales 10000] [--repeat 3]`.

Times `fit_beta_prior` and the scoring of every whale (`skill` per whale, as
`recompute_skill` calls it) on W generated (won, decided) pairs, no warehouse. Two populations:
*realistic* (each whale's rate drawn from Beta(20, 20), 0-400 decided positions) and
*degenerate* (every whale the same rate 0.55, so the fitted prior's strength runs to the top of
its range, alpha + beta near 1e6, the slow case of the beta quantile).
"""

from __future__ import annotations

import random
import time
from typing import Any

from benchmarks import common


def population(kind: str, whales: int, seed: int = 5) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    records = []
    for _ in range(whales):
        rate = rng.betavariate(20, 20) if kind == "realistic" else 0.55
        decided = rng.randint(0, 400)
        records.append((sum(rng.random() < rate for _ in range(decided)), decided))
    return records


def timed(records: list[tuple[int, int]]) -> dict[str, Any]:
    from opinion_pipeline.defs.whale_skill.stats import fit_beta_prior, skill

    started = time.perf_counter()
    prior = fit_beta_prior(records)
    fitted = time.perf_counter()
    scores = [skill(won, decided, prior, min_decided=20) for won, decided in records]
    ended = time.perf_counter()
    return {
        "seconds": round(ended - started, 3),
        "fit_s": round(fitted - started, 3),
        "score_s": round(ended - fitted, 3),
        "prior": [round(prior[0], 3), round(prior[1], 3)],
        "low_sum": round(sum(s.low for s in scores), 9),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--whales", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.quick:
        args.whales, args.repeat = 200, 1
    figures: dict[str, Any] = {"machine": common.machine(), "whales": args.whales}
    for kind in ("realistic", "degenerate"):
        records = population(kind, args.whales)
        runs = common.repeated(args.repeat, kind, lambda _, r=records: timed(r))
        figures[kind] = {
            "distinct_pairs": len(set(records)),
            "runs": runs,
            "seconds": common.spread([run["seconds"] for run in runs]),
        }
        common.say(f"{kind}: {figures[kind]['seconds']} s, prior {runs[0]['prior']}")
    common.emit("skill_fit", figures)
    return figures


if __name__ == "__main__":
    main()
