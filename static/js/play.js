// The little JavaScript the play page needs: clear the composer after a send, Enter to send,
// keep the newest text in view, drop a card file onto the story list to import it.
(function () {
  function scrollDown() {
    var t = document.getElementById("transcript");
    if (t) t.scrollTop = t.scrollHeight;
  }
  document.addEventListener("htmx:wsAfterSend", function (e) {
    var form = e.target.closest && e.target.closest("#composer");
    if (form) form.reset();
  });
  document.addEventListener("htmx:wsAfterMessage", scrollDown);
  document.addEventListener("DOMContentLoaded", function () {
    scrollDown();
    var text = document.getElementById("composer-text");
    if (text) {
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) {
          e.preventDefault();
          var send = document.getElementById("send-btn");
          if (send && !send.disabled) text.form.requestSubmit();
        }
      });
    }
    var drop = document.getElementById("drop-zone");
    if (drop) {
      drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
      drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
      drop.addEventListener("drop", function (e) {
        e.preventDefault();
        drop.classList.remove("over");
        var file = e.dataTransfer.files[0];
        if (!file) return;
        var body = new FormData();
        body.append("file", file);
        var token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
        fetch(drop.dataset.importUrl, {method: "POST", body: body, headers: {"X-CSRFToken": token}})
          .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
          .then(function (res) {
            var out = document.getElementById("drop-result");
            out.textContent = res[0] ? "Imported " + res[1].name + "." : "Not imported: " + res[1].detail;
            if (res[0]) setTimeout(function () { location.reload(); }, 600);
          });
      });
    }
  });
})();
