// The play page's own JavaScript. The server renders everything; this keeps the page honest
// while the server works: your line shows at once ("waiting for the model"), Send says why it
// is off, a dropped connection shows a banner and reconnects (the server re-sends the story on
// connect), the drawer slides over on small screens and keeps its open sections across the
// live redraws. Also: Enter to send, the newest text in view, drop a card file on the story
// list to import it. Model text is only ever inserted as text nodes.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  var play = null;

  // -- scrolling: follow the story unless the reader scrolled up to read ----------------------
  var NEAR_BOTTOM = 140;
  var stick = true;
  function scrollDown(force) {
    var t = byId("transcript");
    if (t && (force || stick)) t.scrollTop = t.scrollHeight;
  }

  // -- your line at once, and Send's state ---------------------------------------------------
  var pending = null; // {row, text, after: newest turn id when sent, resolved: bool}

  function newestTurnId() {
    var ids = Array.prototype.map.call(
      document.querySelectorAll("#transcript article.turn[data-turn]"),
      function (a) { return Number(a.dataset.turn); });
    return ids.length ? Math.max.apply(null, ids) : 0;
  }

  function pendingRow(text) {
    var row = document.createElement("div");
    row.className = "turn turn-you pending";
    row.id = "pending-turn";
    var avatar = document.createElement("span");
    avatar.className = "avatar avatar-you";
    avatar.setAttribute("aria-hidden", "true");
    var mine = document.querySelector("#transcript article.turn-you .avatar");
    if (mine) avatar.innerHTML = mine.innerHTML; // our own server-rendered avatar, not model text
    var main = document.createElement("div");
    main.className = "turn-main";
    var header = document.createElement("header");
    var name = document.createElement("span");
    name.className = "name";
    var myName = document.querySelector("#transcript article.turn-you .name");
    name.textContent = myName ? myName.textContent : "You";
    var badge = document.createElement("span");
    badge.className = "badge";
    badge.setAttribute("role", "status");
    badge.textContent = "waiting for the model…";
    header.append(name, " ", badge);
    var body = document.createElement("div");
    body.className = "body";
    body.textContent = text;
    main.append(header, body);
    row.append(avatar, main);
    return row;
  }

  function showPending() {
    var t = byId("transcript");
    if (pending && t && !t.contains(pending.row)) t.appendChild(pending.row);
  }

  function clearPending(restoreText) {
    if (!pending) return;
    if (restoreText) {
      var box = byId("composer-text");
      if (box && !box.value) box.value = pending.text;
    }
    pending.row.remove();
    pending = null;
    var send = byId("send-btn");
    if (send && send.dataset.held) {
      // we turned Send off for our line, not the server: give it back as it was
      send.disabled = false;
      send.textContent = send.dataset.held;
      delete send.dataset.held;
      var status = byId("composer-status");
      if (status) status.textContent = status.dataset.held || "";
    }
  }

  function syncSend() {
    var send = byId("send-btn");
    var status = byId("composer-status");
    if (!send) return;
    if (pending && !pending.resolved && !send.disabled) {
      send.dataset.held = send.textContent;
      if (status) status.dataset.held = status.textContent;
      send.disabled = true;
      send.textContent = "Sending…";
      send.setAttribute("aria-describedby", "composer-status");
      if (status) status.textContent = "Your line is on its way: waiting for the model…";
    }
  }

  // After each websocket message: did our line arrive, was it refused, did the bot start?
  function followPending(message) {
    if (!pending) return;
    var t = byId("transcript");
    var mine = t && Array.prototype.some.call(
      t.querySelectorAll("article.turn-you[data-turn]"),
      function (a) { return Number(a.dataset.turn) > pending.after; });
    var replied = t && (t.querySelector(".turn.streaming") || Array.prototype.some.call(
      t.querySelectorAll("article.turn-bot[data-turn], article.turn-narrator[data-turn]"),
      function (a) { return Number(a.dataset.turn) > pending.after; }));
    var notice = message.indexOf('class="notice') >= 0;
    var idle = message.indexOf(">Send</button>") >= 0;
    var asked = message.indexOf('id="skip-confirm" hx-swap-oob="outerHTML"') >= 0;
    if (replied || asked) { clearPending(false); return; }
    if (!mine && !pending.resolved && notice) { clearPending(true); return; } // refused
    if (pending.resolved && (notice || idle)) { clearPending(false); return; } // ended, no reply
    if (mine && !pending.resolved) {
      // the line is in the story; keep a quiet "waiting" row until the bot starts writing
      pending.resolved = true;
      pending.row.classList.add("waiting");
      pending.row.querySelector(".body").textContent = "";
      pending.row.querySelector(".name").textContent = "";
    }
    if (pending.resolved && t) t.appendChild(pending.row); // stays last
    showPending();
    syncSend();
  }

  // -- editing a line in place --------------------------------------------------------------
  // The line becomes a textarea (its words as written). Save keeps what followed (the world
  // follows the new words); Save as branch forks there. An earlier line shows first what its
  // old words take with them. Esc cancels, Ctrl/Cmd+Enter saves. What you type survives the
  // live redraws, and stays when saving fails (busy, too long).
  var editing = null; // {turn: id, text: typed so far, previewed: the text last previewed}

  function csrf() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  }

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    return fetch(url, {method: "POST", body: body, headers: {"X-CSRFToken": csrf()}})
      .then(function (r) { return r.text().then(function (t) { return {ok: r.ok, text: t}; }); });
  }

  function isNewest(article) {
    return Number(article.dataset.turn) === newestTurnId();
  }

  function closeEditor(article) {
    var editor = article && article.querySelector(".line-editor");
    if (editor) editor.remove();
    if (article) {
      article.classList.remove("editing");
      var body = article.querySelector(".body");
      if (body) body.hidden = false;
    }
    editing = null;
  }

  function editorMessage(editor, html) {
    var slot = editor.querySelector(".editor-message");
    slot.innerHTML = html; // our own server-rendered fragment (an error notice, escaped)
  }

  function openEditor(article, text) {
    if (!article || article.querySelector(".line-editor")) return;
    var open = document.querySelector("#transcript .turn.editing");
    if (open && open !== article) closeEditor(open);
    var body = article.querySelector(".body");
    var editor = document.createElement("div");
    editor.className = "line-editor";
    var box = document.createElement("textarea");
    box.value = text != null ? text : article.dataset.text || "";
    box.setAttribute("aria-label", "The line's words");
    var actions = document.createElement("div");
    actions.className = "editor-actions";
    function button(label, cls) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = label;
      actions.appendChild(b);
      return b;
    }
    var save = button("Save", "primary save-edit");
    var branch = button("Save as branch", "branch-edit");
    var cancel = button("Cancel", "cancel-edit");
    var hint = document.createElement("small");
    hint.textContent = "Ctrl+Enter saves · Esc cancels";
    actions.appendChild(hint);
    var message = document.createElement("div");
    message.className = "editor-message";
    message.setAttribute("role", "status");
    editor.append(box, actions, message);
    body.hidden = true;
    body.after(editor);
    article.classList.add("editing");
    editing = {turn: article.dataset.turn, text: box.value, previewed: null};
    box.addEventListener("input", function () { editing.text = box.value; });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); closeEditor(article); }
      else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); saveEdit(article, "save"); }
    });
    save.addEventListener("click", function () { saveEdit(article, "save"); });
    branch.addEventListener("click", function () { saveEdit(article, "branch"); });
    cancel.addEventListener("click", function () { closeEditor(article); });
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  function saveEdit(article, mode) {
    var editor = article.querySelector(".line-editor");
    if (!editor) return;
    var text = editor.querySelector("textarea").value;
    // an earlier line, kept what followed: first say what its old words take with them
    if (mode === "save" && !isNewest(article) && editing && editing.previewed !== text) {
      editorMessage(editor, "Reading what changes…");
      post(article.dataset.previewUrl, {text: text}).then(function (res) {
        editorMessage(editor, res.text);
        if (res.ok && editing) {
          editing.previewed = text;
          editor.querySelector(".save-edit").textContent = "Save — keep what followed";
        }
      });
      return;
    }
    editorMessage(editor, "Saving…");
    editor.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    post(article.dataset.editUrl, {text: text, mode: mode}).then(function (res) {
      var still = document.getElementById("turn-" + article.dataset.turn);
      var target = still || article;
      var ed = target.querySelector(".line-editor");
      if (res.ok) { closeEditor(target); return; }
      if (ed) {
        editorMessage(ed, res.text);
        ed.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }
    });
  }

  // after a redraw: an editor that was open comes back with what was typed
  function restoreEditor() {
    if (!editing) return;
    var article = document.getElementById("turn-" + editing.turn);
    if (!article) { editing = null; return; }
    if (!article.querySelector(".line-editor")) {
      var text = editing.text;
      editing = null;
      openEditor(article, text);
    }
  }

  var press = null;
  function longPress(e) {
    var body = e.target.closest && e.target.closest("#transcript .turn .body");
    if (!body || e.pointerType === "mouse") return;
    var article = body.closest("article.turn");
    press = setTimeout(function () { press = null; openEditor(article); }, 550);
  }
  function pressEnd() { if (press) { clearTimeout(press); press = null; } }

  // -- Impersonate: the model's draft of your line streams into the message box ---------------
  var socket = null;
  function draftArrived() {
    var sink = byId("draft-sink");
    var box = byId("composer-text");
    if (!sink || !box || !sink.childNodes.length) return;
    sink.querySelectorAll(".draft-piece").forEach(function (p) {
      if (!box.classList.contains("drafting")) { box.value = ""; box.classList.add("drafting"); }
      box.value += p.textContent;
      p.remove();
    });
    var done = sink.querySelector(".draft-done");
    if (done) {
      box.value = done.textContent || box.value.trim();
      box.classList.remove("drafting");
      done.remove();
      box.focus();
    }
  }

  // -- the connection -------------------------------------------------------------------------
  var RECONNECT_CODES = [1006, 1011, 1012, 1013]; // the ws extension retries these by itself
  function banner(show) {
    var b = byId("ws-banner");
    if (b) b.hidden = !show;
  }

  // -- the drawer: a slide-over on small screens; open sections survive redraws -----------------
  var narrow = window.matchMedia("(max-width: 900px)");
  var openState = {};
  var memoryQuery = "";
  var drawerInner = null;

  function setDrawer(open, focus) {
    var drawer = byId("drawer");
    var toggle = document.querySelector(".drawer-toggle");
    if (!play || !drawer) return;
    play.classList.toggle("drawer-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    drawer.inert = narrow.matches && !open;
    var backdrop = document.querySelector(".drawer-backdrop");
    if (backdrop) backdrop.hidden = !(open && narrow.matches);
    if (focus) {
      if (open) {
        var close = drawer.querySelector(".drawer-close");
        if (close) close.focus();
      } else if (toggle) {
        toggle.focus();
      }
    }
  }

  function drawerUpdated() {
    var drawer = byId("drawer");
    if (!drawer) return;
    var inner = drawer.querySelector(".drawer-inner");
    if (!inner || inner === drawerInner) return;
    drawerInner = inner;
    Object.keys(openState).forEach(function (id) {
      var d = byId(id);
      if (d && d.tagName === "DETAILS" && drawer.contains(d)) d.open = openState[id];
    });
    var q = byId("memory-q");
    if (q && memoryQuery) {
      q.value = memoryQuery;
      if (window.htmx) window.htmx.trigger(q, "search");
    }
    restoreEdits(drawer);
    placeAnalysisNotices();
    document.dispatchEvent(new CustomEvent("rp:drawer"));
  }

  // The drawer carries the notices of recent turns whose analysis failed (the turns themselves
  // are not redrawn after their analysis): put each on its turn, and take off the stale ones.
  function placeAnalysisNotices() {
    var template = byId("turn-notices");
    if (!template) return;
    var fresh = {};
    template.content.querySelectorAll("[data-for-turn]").forEach(function (n) {
      fresh[n.dataset.forTurn] = n;
    });
    (template.dataset.turns || "").split(" ").filter(Boolean).forEach(function (id) {
      var turn = byId("turn-" + id);
      if (!turn) return;
      var shown = turn.querySelector(".analysis-failed");
      if (shown && !fresh[id]) shown.remove();
      if (!shown && fresh[id]) {
        var notice = document.importNode(fresh[id], true);
        var body = turn.querySelector(".body");
        if (body) {
          body.after(notice);
          if (window.htmx) window.htmx.process(notice);
        }
      }
    });
  }

  // A line's ⋯ menu opens upward when below it there is no room (the last lines)
  document.addEventListener("toggle", function (e) {
    var menu = e.target;
    if (!menu.classList || !menu.classList.contains("turn-menu") || !menu.open) return;
    menu.classList.remove("menu-up");
    var list = menu.querySelector(".menu");
    var box = byId("transcript");
    if (!list || !box) return;
    var bottom = Math.min(box.getBoundingClientRect().bottom, window.innerHeight);
    if (list.getBoundingClientRect().bottom > bottom) menu.classList.add("menu-up");
  }, true);

  // -- after every message: who wrote last, what to announce ------------------------------------
  function markLastReply() {
    document.querySelectorAll("#transcript .turn.last-reply").forEach(function (a) {
      a.classList.remove("last-reply");
    });
    var turns = document.querySelectorAll("#transcript article.turn[data-turn]");
    var last = turns[turns.length - 1];
    if (last && last.classList.contains("turn-bot")) last.classList.add("last-reply");
  }

  var streaming = null;
  function announceFinishedReply() {
    var row = document.querySelector("#transcript .turn.streaming");
    if (row) {
      streaming = row.id;
      var avatar = row.querySelector(".avatar");
      var speaker = row.className.match(/turn-(host|guest)/);
      if (avatar && !avatar.childNodes.length && speaker) {
        var theirs = document.querySelectorAll("#transcript article.turn-" + speaker[1] + " .avatar");
        if (theirs.length) avatar.innerHTML = theirs[theirs.length - 1].innerHTML;
      }
      return;
    }
    if (!streaming) return;
    streaming = null;
    var bots = document.querySelectorAll("#transcript article.turn-bot");
    var last = bots[bots.length - 1];
    var announcer = byId("announcer");
    if (last && announcer) {
      var name = last.querySelector(".name");
      var body = last.querySelector(".body");
      var text = (body ? body.textContent : "").trim();
      announcer.textContent = (name ? name.textContent.trim() + ": " : "") +
        (text.length > 400 ? text.slice(0, 400) + "…" : text);
    }
  }

  // htmx logs an error for an out-of-band delete whose target is gone; the server deletes
  // #skip-confirm after every send, so an empty one is always kept ready.
  function ensureSkipConfirmSlot() {
    if (byId("skip-confirm")) return;
    var slot = document.createElement("div");
    slot.id = "skip-confirm";
    slot.hidden = true;
    var notices = byId("notices");
    if (notices) notices.after(slot);
  }

  // Before a redraw swaps in: the drawer notes the field being typed in (its focus comes
  // back after), and Send is updated in place, never swapped: a redraw that lands while it is
  // being clicked would otherwise swallow the click (press and release on two buttons).
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var d = e.detail || {};
    if (d.target && d.target.id === "drawer") {
      var active = document.activeElement;
      focused = active && d.target.contains(active) ? fieldKey(active) : null;
      return;
    }
    if (!d.target || d.target.id !== "send-btn" || !d.fragment) return;
    var fresh = d.fragment.querySelector("#send-btn");
    if (!fresh) return;
    var send = d.target;
    delete send.dataset.held;
    send.disabled = fresh.disabled;
    send.textContent = fresh.textContent;
    var described = fresh.getAttribute("aria-describedby");
    if (described) send.setAttribute("aria-describedby", described);
    else send.removeAttribute("aria-describedby");
    d.shouldSwap = false;
  });

  // -- what you are typing in the drawer survives its live redraws ----------------------------
  // (the drawer is redrawn after every turn's bookkeeping: a half-typed skip target, guest
  // introduction or author's note would otherwise be wiped, or sent empty)
  var edits = {}; // field key -> value typed and not yet submitted (a checkbox: checked)
  var focused = null; // the key of the drawer field that had focus when the redraw came

  function formKey(form) {
    return form.getAttribute("hx-post") || form.getAttribute("action") || form.className;
  }

  function fieldKey(el) {
    var form = el.form || el.closest("form");
    return el.name && form ? formKey(form) + "|" + el.name : null;
  }

  function restoreEdits(drawer) {
    var again = null;
    drawer.querySelectorAll("input, textarea, select").forEach(function (el) {
      var key = fieldKey(el);
      if (!key) return;
      if (key === focused) again = again || el;
      if (!(key in edits)) return;
      if (el.type === "checkbox") el.checked = edits[key];
      else if (el.type === "radio") el.checked = el.value === edits[key];
      else el.value = edits[key];
    });
    var active = document.activeElement;
    if (again && (!active || active === document.body || !document.body.contains(active))) {
      again.focus();
    }
    focused = null;
  }

  document.addEventListener("htmx:wsBeforeMessage", function () {
    var t = byId("transcript");
    stick = !t || t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_BOTTOM;
    ensureSkipConfirmSlot();
  });

  document.addEventListener("htmx:wsAfterMessage", function (e) {
    var message = (e.detail && e.detail.message) || "";
    draftArrived();
    restoreEditor();
    followPending(message);
    markLastReply();
    announceFinishedReply();
    drawerUpdated();
    scrollDown(false);
  });

  document.addEventListener("htmx:wsBeforeSend", function (e) {
    var form = e.target.closest && e.target.closest("#composer");
    if (!form) return;
    var action = form.querySelector("input[name=action]");
    var box = byId("composer-text");
    var text = box ? box.value.trim() : "";
    // nothing (a reply to the last line) and /commands write no line of yours
    if (!action || action.value !== "send" || !text || text.charAt(0) === "/") return;
    if (pending) pending.row.remove();
    pending = {row: pendingRow(text), text: text, after: newestTurnId(), resolved: false};
    showPending();
    syncSend();
    scrollDown(true);
  });

  document.addEventListener("htmx:wsAfterSend", function (e) {
    var form = e.target.closest && e.target.closest("#composer");
    if (form) form.reset();
  });

  document.addEventListener("htmx:wsOpen", function (e) {
    banner(false);
    socket = (e.detail && e.detail.socketWrapper) || socket;
  });
  document.addEventListener("htmx:wsClose", function (e) {
    var detail = e.detail || {};
    var code = detail.event ? detail.event.code : 0;
    if (code === 4404) return; // the chat is gone: nothing to reconnect to
    if (!play || !document.body.contains(play)) return;
    banner(true);
    if (RECONNECT_CODES.indexOf(code) < 0 && detail.socketWrapper) {
      // a clean close (a restarted server says "going away") is not retried by the extension
      setTimeout(function () { detail.socketWrapper.reconnect(); }, 500 + Math.random() * 1000);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    play = byId("play");
    ensureSkipConfirmSlot();
    markLastReply();
    scrollDown(true);
    var text = byId("composer-text");
    if (text) {
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          var send = byId("send-btn");
          if (send && !send.disabled) text.form.requestSubmit();
        }
      });
    }
    var t = byId("transcript");
    if (t) {
      t.addEventListener("click", function (e) {
        var pencil = e.target.closest && e.target.closest(".edit-line");
        if (!pencil) return;
        var article = pencil.closest("article.turn");
        var menu = pencil.closest("details.turn-menu");
        if (menu) menu.open = false;
        openEditor(article);
      });
      t.addEventListener("pointerdown", longPress);
      ["pointerup", "pointermove", "pointercancel"].forEach(function (k) {
        t.addEventListener(k, pressEnd);
      });
      t.addEventListener("scroll", function () {
        stick = t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_BOTTOM;
      }, {passive: true});
    }
    var quill = byId("impersonate-btn");
    if (quill) {
      quill.addEventListener("click", function () {
        if (socket) socket.send(JSON.stringify({action: "impersonate"}));
      });
    }
    var drawer = byId("drawer");
    if (play && drawer) {
      drawerInner = drawer.querySelector(".drawer-inner");
      placeAnalysisNotices();
      setDrawer(false, false);
      narrow.addEventListener("change", function () { setDrawer(false, false); });
      document.addEventListener("click", function (e) {
        if (e.target.closest(".drawer-toggle")) setDrawer(true, true);
        else if (e.target.closest(".drawer-close")) setDrawer(false, true);
        else if (e.target.closest(".drawer-backdrop")) setDrawer(false, true);
      });
      document.addEventListener("keydown", function (e) {
        if (e.key === "Escape" && play.classList.contains("drawer-open")) setDrawer(false, true);
      });
      // <details> toggles do not bubble: listen while capturing
      drawer.addEventListener("toggle", function (e) {
        if (e.target.id) openState[e.target.id] = e.target.open;
      }, true);
      drawer.addEventListener("input", function (e) {
        if (e.target.id === "memory-q") memoryQuery = e.target.value;
      });
      var remember = function (e) {
        var el = e.target;
        var key = el.id === "memory-q" ? null : fieldKey(el);
        if (!key || (el.type === "radio" && !el.checked)) return;
        edits[key] = el.type === "checkbox" ? el.checked : el.value;
      };
      drawer.addEventListener("input", remember);
      drawer.addEventListener("change", remember);
      drawer.addEventListener("submit", function (e) {
        if (e.target.closest(".memory-search")) e.preventDefault();
        // what was sent is done with: the redraw after it shows the form fresh
        var sent = formKey(e.target) + "|";
        Object.keys(edits).forEach(function (key) {
          if (key.indexOf(sent) === 0) delete edits[key];
        });
      });
    }

    var drop = byId("drop-zone");
    if (drop) {
      drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
      drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
      var picker = byId("card-file");
      // the whole zone opens the file picker (a phone has nothing to drop)
      drop.addEventListener("click", function (e) {
        if (picker && e.target !== picker && !e.target.closest("label")) picker.click();
      });
      if (picker) {
        picker.addEventListener("change", function () {
          if (picker.files[0]) importCard(picker.files[0]);
          picker.value = "";
        });
      }
      drop.addEventListener("drop", function (e) {
        e.preventDefault();
        drop.classList.remove("over");
        var file = e.dataTransfer.files[0];
        if (file) importCard(file);
      });
    }
    function importCard(file) {
      {
        var body = new FormData();
        body.append("file", file);
        var token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
        fetch(drop.dataset.importUrl, {method: "POST", body: body, headers: {"X-CSRFToken": token}})
          .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
          .then(function (res) {
            var out = byId("drop-result");
            out.textContent = res[0] ? "Imported " + res[1].name + "." : "Not imported: " + res[1].detail;
            if (res[0]) setTimeout(function () { location.reload(); }, 600);
          });
      }
    }
  });
})();
