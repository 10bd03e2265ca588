"""Django settings for the Roleplay Engine: one process, one SQLite file, localhost only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import rpsite.sqlite_swap  # noqa: F401  (swap sqlite3 before Django's backend imports it)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("RP_DATA_DIR") or BASE_DIR / "data").resolve()
CHAT_DB_PATH = Path(os.environ.get("CHAT_DB_PATH") or DATA_DIR / "chat.db").resolve()


def _secret_key() -> str:
    key_file = DATA_DIR / ".secret_key"
    if env := os.environ.get("RP_SECRET_KEY"):
        return env
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        try:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            key_file.write_text(key)
        except OSError:
            pass
        return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("RP_DEBUG", "1") == "1"
# Localhost names only: a foreign Host header (DNS rebinding) is refused.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "rpsite",
    "eventstore",
    "worlds",
    "memory",
    "play",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rpsite.middleware.OriginGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "rpsite.urls"
ASGI_APPLICATION = "rpsite.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    # NORMAL in WAL mode: a power cut may lose the last commits but never corrupts; a killed
    # process loses nothing committed (see the crash test and README "Reliability").
    "synchronous": "NORMAL",
    "wal_autocheckpoint": 1000,
}

DATABASES = {
    "default": {
        "ENGINE": "rpsite.db",
        "NAME": CHAT_DB_PATH,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        "PRAGMAS": SQLITE_PRAGMAS,
        "TEST": {"NAME": str(DATA_DIR / "test_chat.db")},
    },
    # Scratch database for replay --verify and impact previews: the same projection schema,
    # in memory, never the live file.
    "scratch": {
        "ENGINE": "rpsite.db",
        "NAME": "file:rpscratch?mode=memory&cache=shared",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        "PRAGMAS": {"foreign_keys": "OFF"},
        "TEST": {"NAME": "file:rpscratch_test?mode=memory&cache=shared", "MIGRATE": False},
    },
}
DATABASE_ROUTERS = ["rpsite.routers.ScratchRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS: list[dict] = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"

LOGIN_URL = "admin:login"
# Semantic memory (sentence embeddings + sqlite-vec). "off" keeps retrieval lexical only: for
# very small machines, and for tests of other things.
RP_EMBEDDINGS = os.environ.get("RP_EMBEDDINGS", "on") != "off"
RP_INDEX_IN_BACKGROUND = True
# A delete that leaves a summary as an extract has the model rewrite it in the background.
RP_REWRITE_IN_BACKGROUND = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RP_LOG_LEVEL", "WARNING")},
    # Django's own loggers keep their default handlers unless told: each line once, at the root
    "loggers": {
        "rp": {"level": os.environ.get("RP_LOG_LEVEL", "INFO")},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
