from django.urls import path

from play.web import views, views_search, views_settings, views_snapshots

app_name = "play"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views_search.search, name="search"),
    path("settings/", views_settings.settings_page, name="settings"),
    path("settings/test/", views_settings.test_connection, name="settings_test"),
    path("backups/", views_snapshots.backups_page, name="backups"),
    path("backups/<str:name>/", views_snapshots.backup_download, name="backup_download"),
    path("chats/<int:chat_id>/snapshots/", views_snapshots.snapshots_page, name="snapshots"),
    path(
        "chats/<int:chat_id>/snapshots/<str:name>/restore/",
        views_snapshots.snapshot_restore_view,
        name="snapshot_restore",
    ),
    path("chats/import/", views.chat_import_view, name="chat_import"),
    path("chats/new/", views.chat_new, name="chat_new"),
    path("chats/setup/", views.chat_setup, name="chat_setup"),
    path("chats/create/", views.chat_create, name="chat_create"),
    path("chats/<int:chat_id>/", views.chat_play, name="chat"),
    path("chats/<int:chat_id>/remove/", views.chat_remove, name="chat_remove"),
    path("chats/<int:chat_id>/drawer/", views.chat_drawer, name="drawer"),
    path("chats/<int:chat_id>/memories/", views.memory_search, name="memory_search"),
    path("chats/<int:chat_id>/transcript/", views.transcript_earlier, name="transcript_earlier"),
    path("chats/<int:chat_id>/guest/", views.guest_add_view, name="guest_add"),
    path("chats/<int:chat_id>/guest/remove/", views.guest_remove_view, name="guest_remove"),
    path("chats/<int:chat_id>/meanwhile/", views.meanwhile_view, name="meanwhile"),
    path("chats/<int:chat_id>/skip/", views.skip_view, name="skip"),
    path("chats/<int:chat_id>/story-events/", views.story_event_view, name="story_event"),
    path("chats/<int:chat_id>/threads/", views.thread_view, name="thread"),
    path("chats/<int:chat_id>/lorebooks/", views.lorebook_attach_view, name="lorebook_attach"),
    path(
        "chats/<int:chat_id>/lorebooks/<int:lorebook_id>/detach/",
        views.lorebook_detach_view,
        name="lorebook_detach",
    ),
    path("chats/<int:chat_id>/authors-note/", views.authors_note_view, name="authors_note"),
    path("chats/<int:chat_id>/samplers/", views.samplers_view, name="samplers"),
    path("chats/<int:chat_id>/significance/", views.significance_page, name="significance"),
    path("chats/<int:chat_id>/edges/", views.edge_edit, name="edge_edit"),
    path("chats/<int:chat_id>/state/", views.state_edit_view, name="state_edit"),
    path("chats/<int:chat_id>/turns/<int:turn_id>/prompt/", views.prompt_inspector, name="prompt"),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/regenerate/",
        views.turn_regenerate,
        name="regenerate",
    ),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/analysis/retry/",
        views.turn_analysis_retry,
        name="analysis_retry",
    ),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/swipe/<int:direction>/",
        views.turn_swipe,
        name="swipe",
    ),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/fork/<str:kind>/",
        views.turn_fork_view,
        name="fork",
    ),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/delete/preview/",
        views.delete_preview_view,
        name="delete_preview",
    ),
    path("chats/<int:chat_id>/turns/<int:turn_id>/delete/", views.delete_view, name="delete"),
    path("chats/<int:chat_id>/turns/<int:turn_id>/edit/", views.turn_edit_view, name="edit"),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/continue/",
        views.turn_continue_view,
        name="continue",
    ),
    path(
        "chats/<int:chat_id>/turns/<int:turn_id>/edit/preview/",
        views.turn_edit_preview_view,
        name="edit_preview",
    ),
    path("chats/<int:chat_id>/turns/<int:turn_id>/hide/", views.hide_view, name="hide"),
    path(
        "chats/<int:chat_id>/branches/<int:branch_id>/activate/",
        views.branch_activate,
        name="branch_activate",
    ),
    path(
        "chats/<int:chat_id>/memories/<int:memory_id>/pin/",
        views.memory_pin_view,
        name="memory_pin",
    ),
    path(
        "chats/<int:chat_id>/memories/<int:memory_id>/witnesses/",
        views.memory_witnesses_view,
        name="memory_witnesses",
    ),
]
