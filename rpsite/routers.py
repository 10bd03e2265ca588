class ScratchRouter:
    """The scratch alias never receives migrations: its schema is copied from the live file."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == "scratch":
            return False
        return None
