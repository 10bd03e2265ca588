import json

from django.core.management.base import BaseCommand, CommandError

from memory import embeddings
from memory.evaluation import MODES, EvalFileError, evaluate
from memory.indexing import model_changed


class Command(BaseCommand):
    help = (
        "Evaluate memory retrieval on a conversations file: evidence recall@k per mode and "
        "per category, and milliseconds per query. The chats it builds are removed afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--k", default="5,10,25", help="comma-separated cut-offs")
        parser.add_argument("--mode", default="all", choices=[*MODES, "all"])
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--embedder",
            choices=sorted(embeddings.LOCAL_EMBEDDERS),
            help="a local embedding model instead of the configured one (a fresh data directory)",
        )

    def handle(self, *args, file, k, mode, embedder=None, **options):
        try:
            ks = sorted({int(x) for x in k.split(",") if x.strip()})
        except ValueError:
            raise CommandError("--k takes numbers, e.g. 5,10,25") from None
        if not ks or min(ks) < 1:
            raise CommandError("--k takes positive numbers")
        modes = list(MODES) if mode == "all" else [mode]
        if embedder:
            embeddings.override_embedder(embeddings.LOCAL_EMBEDDERS[embedder]())
        try:
            changed = model_changed() if embedder else None
            if changed:
                raise CommandError(changed.split(". Run")[0] + ": use a fresh RP_DATA_DIR.")
            result = evaluate(file, ks=ks, modes=modes)
        except EvalFileError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if embedder:
                embeddings.override_embedder(None)
        if options.get("json"):
            self.stdout.write(json.dumps(result, indent=2))
            return
        self._table(result, ks)

    def _table(self, result, ks):
        head = (
            f"{'mode':<8} "
            + " ".join(f"{'R@' + str(k):>7}" for k in ks)
            + f" {'ms/q':>7} {'p50':>7} {'p95':>7} {'p50 w/o embedding':>18} {'p95 w/o':>8}"
        )
        self.stdout.write(head)
        for mode, row in result["modes"].items():
            cells = " ".join(f"{row[f'recall@{k}']:>7.3f}" for k in ks)
            full, bare = row["latency_ms"]["with_embedding"], row["latency_ms"]["without_embedding"]
            self.stdout.write(
                f"{mode:<8} {cells} {row['ms_per_query']:>7.1f} {full['p50']:>7.1f} "
                f"{full['p95']:>7.1f} {bare['p50']:>18.1f} {bare['p95']:>8.1f}"
            )
        categories = sorted({c for row in result["modes"].values() for c in row["by_category"]})
        for k in ks:
            self.stdout.write("")
            self.stdout.write(f"by category (recall@{k}):")
            self.stdout.write(f"{'category':<14} " + " ".join(f"{m:>8}" for m in result["modes"]))
            for cat in categories:
                cells = " ".join(
                    f"{result['modes'][m]['by_category'].get(cat, {}).get(f'recall@{k}', 0):>8.3f}"
                    for m in result["modes"]
                )
                self.stdout.write(f"{cat:<14} {cells}")
