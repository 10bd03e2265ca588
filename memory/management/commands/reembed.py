from django.core.management.base import BaseCommand
from tqdm import tqdm

from memory.indexing import index_now, model_changed, reembed
from rpsite.config import load_config, save_config


class Command(BaseCommand):
    help = (
        "Rebuild the memory vector index with the configured embedding model (or --model M, "
        "which is also saved to config.toml). Without a model change, only fills in memories "
        "that have no vector yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--model", help="embedding model name (for an embeddings_url)")
        parser.add_argument("--all", action="store_true", help="rebuild even if unchanged")

    def handle(self, *args, model=None, all=False, **options):
        if model:
            config = load_config()
            config["inference"]["embedding_model"] = model
            save_config(config)
        changed = model_changed()
        with tqdm(unit="memory", file=self.stderr, desc="embedding") as bar:
            if changed or all:
                if changed:
                    self.stdout.write(changed.split(". Run")[0] + ": rebuilding.")
                count = reembed(progress=bar.update, on_total=lambda n: setattr(bar, "total", n))
            else:
                count = index_now(progress=bar.update)
        self.stdout.write(f"indexed {count} memories")
